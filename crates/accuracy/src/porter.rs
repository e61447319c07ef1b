//! The Porter stemmer exactly as NLTK implements it in its default mode
//! (`PorterStemmer()` = `NLTK_EXTENSIONS`), which is what `rouge-score`'s
//! `DefaultTokenizer(use_stemmer=True)` uses. NLTK's extensions differ from
//! Martin Porter's published algorithm (irregular forms, `ies`/`ied` on
//! four-letter words, `alli`, `fulli`, `logi`, the `*o` rule for two-letter
//! stems, ...), so a generic Porter crate would not reproduce the scores.
//!
//! Ported from `nltk/stem/porter.py` (NLTK 3.10), rule by rule, on
//! characters (Python indexes code points).

use std::collections::HashMap;

/// NLTK's `PorterStemmer()` (mode `NLTK_EXTENSIONS`).
#[derive(Debug, Default, Clone)]
pub struct PorterStemmer {
    _private: (),
}

type Word = Vec<char>;

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// `_consonant_flags`: a `y` is a consonant at the start or after a vowel.
fn consonant_flags(w: &[char]) -> Vec<bool> {
    let mut flags: Vec<bool> = Vec::with_capacity(w.len());
    for (i, &c) in w.iter().enumerate() {
        let f = if is_vowel(c) {
            false
        } else if c == 'y' {
            i == 0 || !flags[i - 1]
        } else {
            true
        };
        flags.push(f);
    }
    flags
}

fn is_consonant(w: &[char], i: usize) -> bool {
    consonant_flags(&w[..=i])[i]
}

/// The measure m of `[C](VC){m}[V]`: the number of vowel-consonant pairs.
fn measure(w: &[char]) -> usize {
    let f = consonant_flags(w);
    f.windows(2).filter(|p| !p[0] && p[1]).count()
}

fn contains_vowel(w: &[char]) -> bool {
    !consonant_flags(w).iter().all(|&c| c)
}

fn ends_double_consonant(w: &[char]) -> bool {
    let n = w.len();
    n >= 2 && w[n - 1] == w[n - 2] && is_consonant(w, n - 1)
}

/// `*o`: ends consonant-vowel-consonant, the last not w, x or y; NLTK also
/// accepts a two-letter vowel-consonant word.
fn ends_cvc(w: &[char]) -> bool {
    let n = w.len();
    (n >= 3
        && is_consonant(w, n - 3)
        && !is_consonant(w, n - 2)
        && is_consonant(w, n - 1)
        && !matches!(w[n - 1], 'w' | 'x' | 'y'))
        || (n == 2 && !is_consonant(w, 0) && is_consonant(w, 1))
}

fn ends_with(w: &[char], suffix: &str) -> bool {
    let s: Vec<char> = suffix.chars().collect();
    w.len() >= s.len() && w[w.len() - s.len()..] == s[..]
}

fn replace_suffix(w: &[char], suffix: &str, replacement: &str) -> Word {
    let n = suffix.chars().count();
    let mut out: Word = w[..w.len() - n].to_vec();
    out.extend(replacement.chars());
    out
}

type Cond<'a> = &'a dyn Fn(&[char]) -> bool;

/// A suffix rule: (suffix, replacement, condition on the stem).
struct Rule<'a>(&'a str, &'a str, Option<Cond<'a>>);

fn cond_holds(cond: &Option<Cond<'_>>, stem: &[char]) -> bool {
    match cond {
        Some(c) => c(stem),
        None => true,
    }
}

/// `_apply_rule_list`: the first rule whose suffix matches decides; if its
/// condition fails the word is returned unchanged. `*d` matches a double
/// consonant.
fn apply_rules(w: &[char], rules: &[Rule<'_>]) -> Word {
    for Rule(suffix, replacement, cond) in rules {
        if *suffix == "*d" && ends_double_consonant(w) {
            let stem = &w[..w.len() - 2];
            return if cond_holds(cond, stem) {
                let mut out = stem.to_vec();
                out.extend(replacement.chars());
                out
            } else {
                w.to_vec()
            };
        }
        if ends_with(w, suffix) {
            let stem = replace_suffix(w, suffix, "");
            return if cond_holds(cond, &stem) {
                let mut out = stem;
                out.extend(replacement.chars());
                out
            } else {
                w.to_vec()
            };
        }
    }
    w.to_vec()
}

fn positive_measure(w: &[char]) -> bool {
    measure(w) > 0
}

fn step1a(w: &[char]) -> Word {
    if ends_with(w, "ies") && w.len() == 4 {
        return replace_suffix(w, "ies", "ie");
    }
    apply_rules(
        w,
        &[
            Rule("sses", "ss", None),
            Rule("ies", "i", None),
            Rule("ss", "ss", None),
            Rule("s", "", None),
        ],
    )
}

fn step1b(w: &[char]) -> Word {
    if ends_with(w, "ied") {
        return if w.len() == 4 {
            replace_suffix(w, "ied", "ie")
        } else {
            replace_suffix(w, "ied", "i")
        };
    }
    if ends_with(w, "eed") {
        let stem = replace_suffix(w, "eed", "");
        return if measure(&stem) > 0 {
            let mut out = stem;
            out.extend("ee".chars());
            out
        } else {
            w.to_vec()
        };
    }
    let mut intermediate = None;
    for suffix in ["ed", "ing"] {
        if ends_with(w, suffix) {
            let stem = replace_suffix(w, suffix, "");
            if contains_vowel(&stem) {
                intermediate = Some(stem);
                break;
            }
        }
    }
    let Some(stem) = intermediate else {
        return w.to_vec();
    };
    // contains_vowel guarantees a non-empty stem.
    let last = stem[stem.len() - 1];
    let last_s = last.to_string();
    let not_lsz = move |_: &[char]| !matches!(last, 'l' | 's' | 'z');
    let m1_cvc = |s: &[char]| measure(s) == 1 && ends_cvc(s);
    apply_rules(
        &stem,
        &[
            Rule("at", "ate", None),
            Rule("bl", "ble", None),
            Rule("iz", "ize", None),
            Rule("*d", &last_s, Some(&not_lsz)),
            Rule("", "e", Some(&m1_cvc)),
        ],
    )
}

fn step1c(w: &[char]) -> Word {
    let cond = |s: &[char]| s.len() > 1 && is_consonant(s, s.len() - 1);
    apply_rules(w, &[Rule("y", "i", Some(&cond))])
}

fn step2(w: &[char]) -> Word {
    if ends_with(w, "alli") && positive_measure(&replace_suffix(w, "alli", "")) {
        return step2(&replace_suffix(w, "alli", "al"));
    }
    let pm: Cond<'_> = &positive_measure;
    // NLTK's `logi` rule looks at the word less "gi"... less three letters.
    let logi = |_: &[char]| positive_measure(&w[..w.len() - 3]);
    apply_rules(
        w,
        &[
            Rule("ational", "ate", Some(pm)),
            Rule("tional", "tion", Some(pm)),
            Rule("enci", "ence", Some(pm)),
            Rule("anci", "ance", Some(pm)),
            Rule("izer", "ize", Some(pm)),
            Rule("bli", "ble", Some(pm)),
            Rule("alli", "al", Some(pm)),
            Rule("entli", "ent", Some(pm)),
            Rule("eli", "e", Some(pm)),
            Rule("ousli", "ous", Some(pm)),
            Rule("ization", "ize", Some(pm)),
            Rule("ation", "ate", Some(pm)),
            Rule("ator", "ate", Some(pm)),
            Rule("alism", "al", Some(pm)),
            Rule("iveness", "ive", Some(pm)),
            Rule("fulness", "ful", Some(pm)),
            Rule("ousness", "ous", Some(pm)),
            Rule("aliti", "al", Some(pm)),
            Rule("iviti", "ive", Some(pm)),
            Rule("biliti", "ble", Some(pm)),
            Rule("fulli", "ful", Some(pm)),
            Rule("logi", "log", Some(&logi)),
        ],
    )
}

fn step3(w: &[char]) -> Word {
    let pm: Cond<'_> = &positive_measure;
    apply_rules(
        w,
        &[
            Rule("icate", "ic", Some(pm)),
            Rule("ative", "", Some(pm)),
            Rule("alize", "al", Some(pm)),
            Rule("iciti", "ic", Some(pm)),
            Rule("ical", "ic", Some(pm)),
            Rule("ful", "", Some(pm)),
            Rule("ness", "", Some(pm)),
        ],
    )
}

fn step4(w: &[char]) -> Word {
    let gt1 = |s: &[char]| measure(s) > 1;
    let g: Cond<'_> = &gt1;
    let ion = |s: &[char]| measure(s) > 1 && matches!(s.last(), Some('s' | 't'));
    apply_rules(
        w,
        &[
            Rule("al", "", Some(g)),
            Rule("ance", "", Some(g)),
            Rule("ence", "", Some(g)),
            Rule("er", "", Some(g)),
            Rule("ic", "", Some(g)),
            Rule("able", "", Some(g)),
            Rule("ible", "", Some(g)),
            Rule("ant", "", Some(g)),
            Rule("ement", "", Some(g)),
            Rule("ment", "", Some(g)),
            Rule("ent", "", Some(g)),
            Rule("ion", "", Some(&ion)),
            Rule("ou", "", Some(g)),
            Rule("ism", "", Some(g)),
            Rule("ate", "", Some(g)),
            Rule("iti", "", Some(g)),
            Rule("ous", "", Some(g)),
            Rule("ive", "", Some(g)),
            Rule("ize", "", Some(g)),
        ],
    )
}

fn step5a(w: &[char]) -> Word {
    if ends_with(w, "e") {
        let stem = &w[..w.len() - 1];
        let m = measure(stem);
        if m > 1 || (m == 1 && !ends_cvc(stem)) {
            return stem.to_vec();
        }
    }
    w.to_vec()
}

fn step5b(w: &[char]) -> Word {
    let cond = |_: &[char]| measure(&w[..w.len() - 1]) > 1;
    apply_rules(w, &[Rule("ll", "l", Some(&cond))])
}

/// NLTK_EXTENSIONS' irregular forms, checked before the rules.
fn irregular(word: &str) -> Option<&'static str> {
    Some(match word {
        "sky" | "skies" => "sky",
        "dying" => "die",
        "lying" => "lie",
        "tying" => "tie",
        "news" => "news",
        "innings" | "inning" => "inning",
        "outings" | "outing" => "outing",
        "cannings" | "canning" => "canning",
        "howe" => "howe",
        "proceed" => "proceed",
        "exceed" => "exceed",
        "succeed" => "succeed",
        _ => return None,
    })
}

impl PorterStemmer {
    pub fn new() -> Self {
        Self::default()
    }

    /// `PorterStemmer().stem(word)` (which lower-cases first).
    pub fn stem(&self, word: &str) -> String {
        let lower = word.to_lowercase();
        if let Some(s) = irregular(&lower) {
            return s.to_string();
        }
        // NLTK tests the length of the word as given, before lower-casing.
        if word.chars().count() <= 2 {
            return lower;
        }
        let mut w: Word = lower.chars().collect();
        for step in [step1a, step1b, step1c, step2, step3, step4, step5a, step5b] {
            w = step(&w);
        }
        w.into_iter().collect()
    }
}

/// A stemmer with a memo: ROUGE stems the same words over and over.
#[derive(Debug, Default)]
pub struct CachedStemmer {
    stemmer: PorterStemmer,
    cache: HashMap<String, String>,
}

impl CachedStemmer {
    pub fn stem(&mut self, word: &str) -> String {
        if let Some(s) = self.cache.get(word) {
            return s.clone();
        }
        let s = self.stemmer.stem(word);
        self.cache.insert(word.to_string(), s.clone());
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_examples_and_nltk_extensions() {
        let p = PorterStemmer::new();
        for (w, s) in [
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("ties", "tie"),
            ("cats", "cat"),
            ("feed", "feed"),
            ("agreed", "agre"),
            ("plastered", "plaster"),
            ("motoring", "motor"),
            ("conflated", "conflat"),
            ("hopping", "hop"),
            ("filing", "file"),
            ("happy", "happi"),
            ("relational", "relat"),
            ("generalization", "gener"),
            ("skies", "sky"),
            ("dying", "die"),
            ("enjoy", "enjoy"),
            ("analogously", "analog"),
            ("controlling", "control"),
            ("running", "run"),
            ("summarization", "summar"),
        ] {
            assert_eq!(p.stem(w), s, "{w}");
        }
    }
}
