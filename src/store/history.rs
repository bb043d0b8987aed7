//! The history of offers opened: when, how many pictures, and a label to recognise each by.
//!
//! Every opening is a row; the history pane shows the latest opening of each offer
//! ([`Store::recent`]). Rows are kept per scope (API base), so the demo's offers do not show in
//! the real API's history, and the oldest are dropped beyond [`KEPT_PER_SCOPE`].

use std::time::SystemTime;

use super::{from_millis, millis, Store, StoreError};
use crate::item_id::ItemId;
use crate::tmapi::ItemDesc;

/// How many openings are kept per scope; older ones are dropped.
pub const KEPT_PER_SCOPE: i64 = 2000;

/// The longest label kept, in characters.
const LABEL_CHARS: usize = 60;

/// One offer in the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The offer.
    pub item: ItemId,
    /// Its latest opening.
    pub opened_at: SystemTime,
    /// How many pictures its description lists.
    pub pictures: usize,
    /// A short text to recognise it by, safe for a terminal.
    pub label: String,
}

impl Store {
    /// Records that `item` was opened now, with its picture count and label.
    pub fn record_open(
        &self,
        scope: &str,
        item: &ItemId,
        pictures: usize,
        label: &str,
    ) -> Result<(), StoreError> {
        let label = crate::text::sanitize(label);
        self.write(|transaction| {
            let run = |sql: &str, params: &[&dyn rusqlite::ToSql]| {
                transaction
                    .execute(sql, params)
                    .map(drop)
                    .map_err(|e| self.db_error(e))
            };
            run(
                "INSERT INTO history (scope, item_id, opened_at, pictures, label)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                &[
                    &scope,
                    &item.as_str(),
                    &millis(SystemTime::now()),
                    &i64::try_from(pictures).unwrap_or(i64::MAX),
                    &label.as_ref(),
                ],
            )?;
            run(
                "DELETE FROM history WHERE scope = ?1 AND id <= (
                     SELECT id FROM history WHERE scope = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
                &[&scope, &KEPT_PER_SCOPE],
            )
        })
    }

    /// The `limit` offers opened most recently from `scope`, newest first, each once.
    pub fn recent(&self, scope: &str, limit: usize) -> Result<Vec<HistoryEntry>, StoreError> {
        let rows: Vec<(String, i64, i64, String)> = self.read(|connection| {
            // SQLite fills the bare columns of a MAX() aggregate from the row that holds the
            // maximum, so each offer's picture count and label are those of its latest opening.
            let mut statement = connection.prepare(
                "SELECT item_id, MAX(id), opened_at, pictures, label FROM history
                 WHERE scope = ?1 GROUP BY item_id ORDER BY MAX(id) DESC LIMIT ?2",
            )?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = statement
                .query_map((scope, limit), |row| {
                    Ok((row.get(0)?, row.get(2)?, row.get(3)?, row.get(4)?))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(item, opened_at, pictures, label)| {
                Some(HistoryEntry {
                    item: item.parse().ok()?,
                    opened_at: from_millis(opened_at),
                    pictures: usize::try_from(pictures).unwrap_or(0),
                    label,
                })
            })
            .collect())
    }
}

/// A label for an offer: the first words of its description's text, or its picture count
/// when the description is only pictures (as most are).
pub fn label_for(desc: &ItemDesc, pictures: usize) -> String {
    let text = visible_text(&desc.detail_html);
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.is_empty() {
        return crate::text::count(pictures, "picture");
    }
    let joined = words.join(" ");
    let mut chars = joined.chars();
    let mut label: String = chars.by_ref().take(LABEL_CHARS).collect();
    if chars.next().is_some() {
        label.push('…');
    }
    crate::text::sanitize(&label).into_owned()
}

/// The text between tags, with entities decoded; script and style contents are skipped.
fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(rest.get(..open).unwrap_or_default());
        text.push(' ');
        let after = rest.get(open..).unwrap_or_default();
        let lower_head: String = after
            .chars()
            .take(8)
            .collect::<String>()
            .to_ascii_lowercase();
        let skip_to = if lower_head.starts_with("<script") {
            find_ci(after, "</script")
        } else if lower_head.starts_with("<style") {
            find_ci(after, "</style")
        } else {
            Some(0)
        };
        let Some(from) = skip_to else {
            return decode(&text);
        };
        match after.get(from..).and_then(|tail| tail.find('>')) {
            Some(close) => rest = after.get(from + close + 1..).unwrap_or_default(),
            None => return decode(&text),
        }
    }
    text.push_str(rest);
    decode(&text)
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack.to_ascii_lowercase().find(needle)
}

fn decode(text: &str) -> String {
    html_escape::decode_html_entities(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Location;

    fn id(text: &str) -> ItemId {
        text.parse().unwrap()
    }

    #[test]
    fn recent_lists_each_offer_once_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Location::under(dir.path())).unwrap();
        store.record_open("s", &id("111"), 3, "first").unwrap();
        store.record_open("s", &id("222"), 5, "second").unwrap();
        store
            .record_open("s", &id("111"), 4, "first again")
            .unwrap();
        store
            .record_open("other", &id("333"), 1, "elsewhere")
            .unwrap();

        let recent = store.recent("s", 10).unwrap();
        let seen: Vec<(&str, usize, &str)> = recent
            .iter()
            .map(|e| (e.item.as_str(), e.pictures, e.label.as_str()))
            .collect();
        assert_eq!(seen, [("111", 4, "first again"), ("222", 5, "second")]);
        assert_eq!(store.recent("s", 1).unwrap().len(), 1);
    }

    #[test]
    fn labels_are_sanitised() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Location::under(dir.path())).unwrap();
        store
            .record_open("s", &id("1"), 0, "bad\x1b[2Jlabel")
            .unwrap();
        let label = &store.recent("s", 1).unwrap()[0].label;
        assert!(!label.contains('\x1b'), "{label:?}");
    }

    #[test]
    fn labels_come_from_the_text_or_the_count() {
        let desc = ItemDesc {
            detail_html: "<style>p{}</style><p>Steel&nbsp;water bottle</p><img src=x>".into(),
            ..Default::default()
        };
        assert_eq!(label_for(&desc, 1), "Steel water bottle");
        let pictures_only = ItemDesc {
            detail_html: "<img src=a><img src=b>".into(),
            ..Default::default()
        };
        assert_eq!(label_for(&pictures_only, 2), "2 pictures");
        let long = ItemDesc {
            detail_html: format!("<p>{}</p>", "word ".repeat(40)),
            ..Default::default()
        };
        assert_eq!(label_for(&long, 0).chars().count(), LABEL_CHARS + 1);
    }
}
