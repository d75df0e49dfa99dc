//! This process's children, as `/proc` shows them (Linux; elsewhere there are none to see).

/// Whether this process has a child, running or not yet reaped.
pub(crate) fn has_children() -> bool {
    !child_states().is_empty()
}

/// How many children of this process are still running (zombies, waiting to be reaped, are not).
pub(crate) fn live_children() -> usize {
    child_states()
        .iter()
        .filter(|state| !matches!(state.as_str(), "Z" | "X"))
        .count()
}

/// The state (`R`, `S`, `Z`, ...) of every child of this process; none where `/proc` is absent.
fn child_states() -> Vec<String> {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
        .filter_map(|stat| {
            // The command name may hold any character: the fields start after its last `)`, with
            // the state first and the parent's pid second.
            let (_, fields) = stat.rsplit_once(')')?;
            let mut fields = fields.split_whitespace();
            let state = fields.next()?;
            (fields.next()? == me).then(|| state.to_owned())
        })
        .collect()
}
