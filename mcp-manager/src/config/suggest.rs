//! "Did you mean ...?" for unknown keys: the closest known key, if it is close enough to be a typo.

/// The candidate `key` was most likely meant to be, if any.
///
/// Case, `_` and `-` are ignored (so `connectTimeout` finds `connect_timeout`), then keys within a
/// small edit distance (a third of the candidate's length, at least one edit) count as typos.
pub(super) fn did_you_mean<'c>(key: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let key = normalise(key);
    candidates
        .iter()
        .map(|&candidate| {
            let normalised = normalise(candidate);
            let limit = (normalised.len() / 3).max(1);
            (edit_distance(&key, &normalised), limit, candidate)
        })
        .filter(|&(distance, limit, _)| distance <= limit && distance < key.len())
        .min_by_key(|&(distance, _, _)| distance)
        .map(|(_, _, candidate)| candidate)
}

fn normalise(key: &str) -> Vec<char> {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Edits (insert, delete, substitute, swap two neighbours) turning `a` into `b`.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    // Optimal string alignment: Levenshtein plus adjacent transpositions, three rows at a time.
    let mut before_previous = vec![0; b.len() + 1];
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(before_previous[j - 2] + 1);
            }
            current[j] = best;
        }
        std::mem::swap(&mut before_previous, &mut previous);
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &[
        "command",
        "args",
        "env",
        "cwd",
        "url",
        "connect_timeout",
        "headers",
    ];

    #[test]
    fn one_typo_finds_the_key() {
        assert_eq!(did_you_mean("comand", KEYS), Some("command"));
        assert_eq!(did_you_mean("commnad", KEYS), Some("command"));
        assert_eq!(did_you_mean("header", KEYS), Some("headers"));
        assert_eq!(did_you_mean("arg", KEYS), Some("args"));
    }

    #[test]
    fn other_spellings_of_the_same_words_find_the_key() {
        assert_eq!(
            did_you_mean("connectTimeout", KEYS),
            Some("connect_timeout")
        );
        assert_eq!(
            did_you_mean("Connect-Timeout", KEYS),
            Some("connect_timeout")
        );
    }

    #[test]
    fn unrelated_keys_find_nothing() {
        assert_eq!(did_you_mean("disabled", KEYS), None);
        assert_eq!(did_you_mean("x", KEYS), None);
        assert_eq!(
            did_you_mean("preferences", &["mcpServers", "servers"]),
            None
        );
    }

    #[test]
    fn the_closest_candidate_wins() {
        assert_eq!(
            did_you_mean("servers", &["server", "servers"]),
            Some("servers")
        );
        assert_eq!(
            did_you_mean("mcpServer", &["mcpServers", "servers"]),
            Some("mcpServers")
        );
    }

    #[test]
    fn distance_counts_swaps_as_one_edit() {
        let d = |a: &str, b: &str| {
            edit_distance(
                &a.chars().collect::<Vec<_>>(),
                &b.chars().collect::<Vec<_>>(),
            )
        };
        assert_eq!(d("", "abc"), 3);
        assert_eq!(d("abc", "abc"), 0);
        assert_eq!(d("abc", "acb"), 1);
        assert_eq!(d("kitten", "sitting"), 3);
    }
}
