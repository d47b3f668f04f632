//! Tab completion on the lines typed at the bottom: the last word is completed from the words
//! that may stand there (commands, modules, tenants, states), as far as they agree; when
//! several remain, the line says which.

/// How many choices the line names before it counts the rest.
const SHOWN: usize = 6;

/// Completes the last word of `text` from `candidates` (a word after `..` in a range is
/// completed on its own); `end` is put after a word completed whole (a space, or `:` after a
/// module in a filter, as `ends` says). Returns what the line shows beside it: the choices
/// left, or that there is none.
pub fn complete<'a>(
    text: &mut String,
    candidates: impl IntoIterator<Item = &'a str>,
    ends: impl Fn(&str) -> &'static str,
) -> Option<String> {
    let start = text.rfind(char::is_whitespace).map_or(0, |i| i + 1);
    let word = &text[start..];
    // In a range, the last end.
    let start = start + word.rfind("..").map_or(0, |i| i + 2);
    let word = text[start..].to_string();
    let mut matches: Vec<&str> = candidates
        .into_iter()
        .filter(|c| c.starts_with(&word))
        .collect();
    matches.sort_unstable();
    matches.dedup();
    match matches.as_slice() {
        [] => Some(format!("nothing completes \"{word}\"")),
        [one] => {
            text.truncate(start);
            text.push_str(one);
            text.push_str(ends(one));
            None
        }
        many => {
            let common = common_prefix(many);
            text.truncate(start);
            text.push_str(common);
            let mut shown: Vec<&str> = many.iter().take(SHOWN).copied().collect();
            if many.len() > SHOWN {
                shown.push("…");
            }
            Some(format!("{} of them: {}", many.len(), shown.join(" ")))
        }
    }
}

fn common_prefix<'a>(words: &[&'a str]) -> &'a str {
    let first = words[0];
    let mut end = first.len();
    for w in &words[1..] {
        end = first
            .char_indices()
            .zip(w.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(end);
    }
    &first[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, words: &[&str]) -> (String, Option<String>) {
        let mut t = text.to_string();
        let note = complete(&mut t, words.iter().copied(), |_| " ");
        (t, note)
    }

    #[test]
    fn completes_as_far_as_the_words_agree() {
        let words = ["calendar", "card_x", "billing", "t0100", "t0101", "t0199"];
        assert_eq!(
            run("install cal", &words),
            ("install calendar ".into(), None)
        );
        let (text, note) = run("install ca", &words);
        assert_eq!(text, "install ca");
        assert_eq!(note.unwrap(), "2 of them: calendar card_x");
        assert_eq!(run("r billing t01", &words).0, "r billing t01");
        assert_eq!(
            run("r billing t0100..t019", &words).0,
            "r billing t0100..t0199 "
        );
        assert!(
            run("x zz", &words)
                .1
                .unwrap()
                .contains("nothing completes \"zz\"")
        );
        assert_eq!(run("ins", &["install", "i"]).0, "install ");
    }
}
