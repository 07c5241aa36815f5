//! `explain scoring`: the scoring model in words, built from the numbers the score uses.

use crate::finding::Status;
use crate::score::{self, Model};

use super::wrap;

pub(super) fn scoring_text(width: usize) -> String {
    let mut out = String::from("How mailcheck scores a domain\n\n");
    for p in scoring_paragraphs(&score::model()) {
        wrap(&mut out, &p.replace('`', ""), width);
        out.push('\n');
    }
    out.pop();
    out
}

/// The scoring model in words, built from the numbers [`score::score`] uses.
pub(super) fn scoring_paragraphs(m: &Model) -> Vec<String> {
    let weights = m
        .weights
        .iter()
        .map(|w| format!("{} {}", w.severity.as_str(), w.weight))
        .collect::<Vec<_>>()
        .join(", ");
    let excluded: Vec<String> = m
        .excluded
        .iter()
        .map(|s| format!("`{}`", s.as_str()))
        .collect();
    let excluded = match excluded.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => excluded.join(""),
    };
    let categories = m
        .categories
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let grades = m
        .grades
        .iter()
        .map(|g| format!("{} ≥ {}", g.grade, g.min_score))
        .chain([format!("{} below", m.lowest_grade)])
        .collect::<Vec<_>>()
        .join(", ");
    let caps = m
        .caps
        .iter()
        .map(|c| {
            if c.when == Status::Unknown.as_str() {
                format!("a check that is `unknown` caps it at {}", c.best_grade)
            } else {
                format!(
                    "a finding of severity {} caps it at {}",
                    c.when, c.best_grade
                )
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    vec![
        format!(
            "Only checks that can fail count. Each weighs by the severity of its findings \
             ({weights}), so an info finding never lowers the score. A severity override in \
             mailcheck.toml changes the weight too."
        ),
        format!(
            "A category's score is the weight of its passed checks over the weight of its decided \
             checks (passed or failed), as 0–100. Checks that are {excluded} are left out of both \
             sums: they never count as passed, and the report shows them as such. An `unknown` \
             check marks the score `partial`."
        ),
        format!(
            "The overall score is the mean of the categories that have a score ({categories}), \
             each of equal weight. A category with no decided check has no score and is left out."
        ),
        format!(
            "Grades: {grades}. The grade is capped: {caps}. So an A always means everything was \
             checked and nothing is left to fix."
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scoring_text_quotes_the_model() {
        let text = scoring_paragraphs(&score::model()).join(" ");
        for (severity, weight) in score::WEIGHTS {
            assert!(
                text.contains(&format!("{} {weight}", severity.as_str())),
                "{text}"
            );
        }
        for (grade, floor) in score::GRADES {
            assert!(text.contains(&format!("{grade} ≥ {floor}")), "{text}");
        }
    }
}
