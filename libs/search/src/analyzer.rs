//! Text normalisation shared by indexing and querying: apostrophes dropped, split on non-alphanumerics,
//! lowercased, accents folded to ASCII ("O'Brien" → "obrien", "Penélope" → "penelope").

use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, SimpleTokenizer, TextAnalyzer, TokenStream};

/// Name under which the analyzer is registered on the index.
pub(crate) const NAME_ANALYZER: &str = "iknow_name";

/// Builds the analyzer used for the name fields and for query text.
pub(crate) fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default()).filter(LowerCaser).filter(AsciiFoldingFilter).build()
}

/// Removes apostrophes so that "o'brien" and "obrien" produce the same token, where splitting would not.
pub(crate) fn strip_apostrophes(text: &str) -> String {
    text.chars().filter(|c| !matches!(c, '\'' | '’' | 'ʼ' | '‘' | '`' | '´')).collect()
}

/// Normalised tokens of `text`, in order.
pub(crate) fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let text = strip_apostrophes(text);
    let mut stream = analyzer.token_stream(&text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// The normalised full name, tokens joined by one space: the key of an exact full-name match and of name sorting.
pub(crate) fn key(analyzer: &mut TextAnalyzer, text: &str) -> String {
    tokens(analyzer, text).join(" ")
}

/// A 128-bit sort key from the first 16 bytes of a normalised name; byte order equals string order.
pub(crate) fn sort_key(key: &str) -> (u64, u64) {
    let mut buf = [0u8; 16];
    let bytes = key.as_bytes();
    let n = bytes.len().min(16);
    buf[..n].copy_from_slice(&bytes[..n]);
    let (hi, lo) = buf.split_at(8);
    (u64::from_be_bytes(hi.try_into().unwrap_or_default()), u64::from_be_bytes(lo.try_into().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_accents_and_apostrophes() {
        let mut a = analyzer();
        assert_eq!(tokens(&mut a, "Penélope CRUZ"), ["penelope", "cruz"]);
        assert_eq!(tokens(&mut a, "Conan O'Brien"), ["conan", "obrien"]);
        assert_eq!(tokens(&mut a, "Jean-Luc Picard"), ["jean", "luc", "picard"]);
        assert_eq!(tokens(&mut a, "Robert Downey Jr."), ["robert", "downey", "jr"]);
        assert_eq!(tokens(&mut a, "  ?! "), Vec::<String>::new());
        assert_eq!(key(&mut a, "Zoë  Saldaña"), "zoe saldana");
    }

    #[test]
    fn sort_key_orders_like_strings() {
        let names = ["a", "aa", "ab", "michael jackson", "michael jordan", "zz"];
        for w in names.windows(2) {
            assert!(sort_key(w[0]) < sort_key(w[1]), "{} < {}", w[0], w[1]);
        }
    }
}
