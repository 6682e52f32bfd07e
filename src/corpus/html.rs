//! A small, forgiving HTML-to-text scanner.
//!
//! It does not build a tree: one pass over the bytes copies text, drops markup, and decodes
//! character references. Rules:
//! - tags are removed; block-level tags (`p`, `div`, `br`, `li`, `h1`–`h6`, `tr`, `td`, …) become
//!   a line break so that words on either side never merge, inline tags (`b`, `a`, `span`, …)
//!   vanish without a trace, as a browser renders them;
//! - the contents of `<script>` and `<style>` are dropped, as are comments, `<!DOCTYPE …>` and
//!   processing instructions; `<![CDATA[…]]>` keeps its text;
//! - character references are decoded: the common named ones (`&amp;`, `&lt;`, `&gt;`, `&quot;`,
//!   `&apos;`, `&nbsp;`, typographic quotes and dashes, common accented letters) and every
//!   numeric one (`&#233;`, `&#xE9;`); an unknown or malformed reference is kept as written;
//! - the page's furniture is dropped with its contents, unless
//!   [`HtmlOptions::keep_boilerplate`]: `<nav>`, `<header>`, `<footer>`, `<aside>`, and any
//!   element whose `role` is `navigation`, `banner`, `contentinfo`, `complementary` or
//!   `search` (the ARIA landmarks of the same parts), nested elements of the same name
//!   counted to find its end;
//! - the output has one text block per line: line breaks inside a block's text become spaces,
//!   and each block-level tag ends the line, so that [`text_blocks`] gives the paragraphs,
//!   headings, list items and cells of the page (what the corpus compares across pages to
//!   remove boilerplate).
//!
//! Malformed markup never panics: an unterminated tag or comment swallows the rest of the
//! input (as browsers do), a `<` not followed by a tag name is text.

/// Tags whose contents are not text.
const RAW_TEXT_TAGS: &[&str] = &["script", "style"];

/// Elements dropped with their contents as page furniture (see the module docs).
const BOILERPLATE_TAGS: &[&str] = &["nav", "header", "footer", "aside"];

/// Values of `role` that mark page furniture.
const BOILERPLATE_ROLES: &[&str] = &[
    "navigation",
    "banner",
    "contentinfo",
    "complementary",
    "search",
];

/// Elements without an end tag.
const VOID_TAGS: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Options of [`strip_html_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HtmlOptions {
    /// Keep navigation, headers, footers and the other page furniture (see the module docs).
    pub keep_boilerplate: bool,
}

/// Tags that separate words: replaced by a line break.
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "br",
    "caption",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "header",
    "hr",
    "html",
    "img",
    "input",
    "legend",
    "li",
    "main",
    "nav",
    "ol",
    "option",
    "p",
    "pre",
    "section",
    "select",
    "summary",
    "table",
    "tbody",
    "td",
    "textarea",
    "tfoot",
    "th",
    "thead",
    "title",
    "tr",
    "ul",
];

/// Named character references decoded by [`strip_html`] (name without `&` and `;`).
const NAMED_REFERENCES: &[(&str, &str)] = &[
    ("amp", "&"),
    ("lt", "<"),
    ("gt", ">"),
    ("quot", "\""),
    ("apos", "'"),
    ("nbsp", " "),
    ("ensp", " "),
    ("emsp", " "),
    ("thinsp", " "),
    ("shy", ""),
    ("zwnj", ""),
    ("zwj", ""),
    ("ndash", "\u{2013}"),
    ("mdash", "\u{2014}"),
    ("hellip", "\u{2026}"),
    ("lsquo", "\u{2018}"),
    ("rsquo", "\u{2019}"),
    ("sbquo", "\u{201A}"),
    ("ldquo", "\u{201C}"),
    ("rdquo", "\u{201D}"),
    ("bdquo", "\u{201E}"),
    ("laquo", "\u{AB}"),
    ("raquo", "\u{BB}"),
    ("bull", "\u{2022}"),
    ("middot", "\u{B7}"),
    ("copy", "\u{A9}"),
    ("reg", "\u{AE}"),
    ("trade", "\u{2122}"),
    ("deg", "\u{B0}"),
    ("times", "\u{D7}"),
    ("divide", "\u{F7}"),
    ("plusmn", "\u{B1}"),
    ("para", "\u{B6}"),
    ("sect", "\u{A7}"),
    ("euro", "\u{20AC}"),
    ("pound", "\u{A3}"),
    ("cent", "\u{A2}"),
    ("yen", "\u{A5}"),
    ("iexcl", "\u{A1}"),
    ("iquest", "\u{BF}"),
    ("aacute", "\u{E1}"),
    ("agrave", "\u{E0}"),
    ("acirc", "\u{E2}"),
    ("auml", "\u{E4}"),
    ("atilde", "\u{E3}"),
    ("aring", "\u{E5}"),
    ("aelig", "\u{E6}"),
    ("ccedil", "\u{E7}"),
    ("eacute", "\u{E9}"),
    ("egrave", "\u{E8}"),
    ("ecirc", "\u{EA}"),
    ("euml", "\u{EB}"),
    ("iacute", "\u{ED}"),
    ("igrave", "\u{EC}"),
    ("icirc", "\u{EE}"),
    ("iuml", "\u{EF}"),
    ("ntilde", "\u{F1}"),
    ("oacute", "\u{F3}"),
    ("ograve", "\u{F2}"),
    ("ocirc", "\u{F4}"),
    ("ouml", "\u{F6}"),
    ("otilde", "\u{F5}"),
    ("oslash", "\u{F8}"),
    ("uacute", "\u{FA}"),
    ("ugrave", "\u{F9}"),
    ("ucirc", "\u{FB}"),
    ("uuml", "\u{FC}"),
    ("yacute", "\u{FD}"),
    ("yuml", "\u{FF}"),
    ("szlig", "\u{DF}"),
    ("Aacute", "\u{C1}"),
    ("Agrave", "\u{C0}"),
    ("Auml", "\u{C4}"),
    ("Ccedil", "\u{C7}"),
    ("Eacute", "\u{C9}"),
    ("Egrave", "\u{C8}"),
    ("Ntilde", "\u{D1}"),
    ("Ouml", "\u{D6}"),
    ("Uuml", "\u{DC}"),
];

/// Longest named reference accepted, in bytes.
const MAX_NAME_LEN: usize = 8;

/// Converts HTML to plain text: tags removed, `<script>`/`<style>` contents and comments dropped,
/// character references decoded, page furniture dropped, one text block per line (see the
/// module docs). Never panics, whatever the input.
pub fn strip_html(html: &str) -> String {
    strip_html_with(html, &HtmlOptions::default())
}

/// [`strip_html`] with options.
pub fn strip_html_with(html: &str, opts: &HtmlOptions) -> String {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len());
    let mut i = 0;
    while i < bytes.len() {
        // Copy the run of plain text up to the next `<` or `&`; line breaks become spaces.
        let run_end = bytes[i..]
            .iter()
            .position(|&c| c == b'<' || c == b'&')
            .map_or(bytes.len(), |p| i + p);
        push_text(&mut out, &html[i..run_end]);
        i = run_end;
        if i >= bytes.len() {
            break;
        }
        i = if bytes[i] == b'<' {
            markup(html, i, &mut out, opts)
        } else {
            reference(html, i, &mut out)
        };
    }
    while out.ends_with([' ', '\t', '\n']) {
        out.pop();
    }
    out
}

/// The text blocks of [`strip_html`]'s output: its lines, with whitespace runs collapsed to
/// one space and trimmed, empty ones left out.
pub fn text_blocks(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|b| !b.is_empty())
}

/// Appends text, line breaks (CR, LF) replaced by spaces.
fn push_text(out: &mut String, text: &str) {
    if text.contains(['\n', '\r']) {
        out.extend(
            text.chars()
                .map(|c| if c == '\n' || c == '\r' { ' ' } else { c }),
        );
    } else {
        out.push_str(text);
    }
}

/// Handles the markup starting at `html[i] == '<'`; returns the index just past it.
fn markup(html: &str, i: usize, out: &mut String, opts: &HtmlOptions) -> usize {
    let bytes = html.as_bytes();
    let rest = &bytes[i..];
    if rest.starts_with(b"<!--") {
        return find(bytes, i + 4, b"-->").map_or(bytes.len(), |p| p + 3);
    }
    if rest.starts_with(b"<![CDATA[") {
        let start = i + 9;
        let end = find(bytes, start, b"]]>");
        out.push_str(&html[start..end.unwrap_or(bytes.len())]);
        return end.map_or(bytes.len(), |p| p + 3);
    }
    if rest.len() > 1 && (rest[1] == b'!' || rest[1] == b'?') {
        // Doctype, processing instruction, bogus comment.
        return find(bytes, i + 2, b">").map_or(bytes.len(), |p| p + 1);
    }
    let closing = rest.len() > 1 && rest[1] == b'/';
    let name_start = i + 1 + usize::from(closing);
    if name_start >= bytes.len() || !bytes[name_start].is_ascii_alphabetic() {
        // Not a tag: a literal `<` ("a < b").
        out.push('<');
        return i + 1;
    }
    let name_end = bytes[name_start..]
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'-' || *c == b':'))
        .map_or(bytes.len(), |p| name_start + p);
    let name = &html[name_start..name_end];
    let Some(tag_end) = tag_end(bytes, name_end) else {
        // Unterminated tag: the rest of the input is inside it.
        return bytes.len();
    };
    let self_closing = tag_end > name_end && bytes[tag_end - 1] == b'/';
    let mut next = tag_end + 1;
    if !opts.keep_boilerplate
        && !closing
        && !self_closing
        && !VOID_TAGS.iter().any(|t| t.eq_ignore_ascii_case(name))
        && is_boilerplate(name, &html[name_end..tag_end])
    {
        separate(out);
        return element_end(bytes, next, name.as_bytes());
    }
    if !closing && !self_closing && RAW_TEXT_TAGS.iter().any(|t| t.eq_ignore_ascii_case(name)) {
        next = raw_text_end(bytes, next, name.as_bytes());
    }
    if BLOCK_TAGS.iter().any(|t| t.eq_ignore_ascii_case(name))
        || RAW_TEXT_TAGS.iter().any(|t| t.eq_ignore_ascii_case(name))
    {
        separate(out);
    }
    next
}

/// Whether an element with this tag name and these attributes is page furniture.
fn is_boilerplate(name: &str, attributes: &str) -> bool {
    BOILERPLATE_TAGS
        .iter()
        .any(|t| t.eq_ignore_ascii_case(name))
        || attribute(attributes, "role").is_some_and(|role| {
            role.split_ascii_whitespace()
                .any(|r| BOILERPLATE_ROLES.iter().any(|b| b.eq_ignore_ascii_case(r)))
        })
}

/// The value of attribute `name` in the attribute text of a tag (`class="a" role=nav`), if
/// present; quoted or not.
fn attribute<'a>(attributes: &'a str, name: &str) -> Option<&'a str> {
    let bytes = attributes.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // Skip to the start of an attribute name.
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !matches!(bytes[i], b'=' | b'/')
        {
            i += 1;
        }
        let this = &attributes[start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = "";
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let q = bytes[i];
                let v_start = i + 1;
                let v_end = bytes[v_start..]
                    .iter()
                    .position(|&c| c == q)
                    .map_or(bytes.len(), |p| v_start + p);
                value = &attributes[v_start..v_end];
                i = (v_end + 1).min(bytes.len());
            } else {
                let v_start = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = &attributes[v_start..i];
            }
        }
        if this.eq_ignore_ascii_case(name) {
            return Some(value);
        }
        if i == start {
            i += 1;
        }
    }
    None
}

/// Index just past the end tag of the element `name` whose contents start at `from`: nested
/// elements of the same name are counted, comments and the contents of `<script>` and
/// `<style>` skipped. The end of the input when the element is never closed.
fn element_end(bytes: &[u8], from: usize, name: &[u8]) -> usize {
    let mut depth = 1usize;
    let mut j = from;
    while let Some(p) = find(bytes, j, b"<") {
        let rest = &bytes[p..];
        if rest.starts_with(b"<!--") {
            j = find(bytes, p + 4, b"-->").map_or(bytes.len(), |q| q + 3);
            continue;
        }
        let closing = rest.get(1) == Some(&b'/');
        let name_start = p + 1 + usize::from(closing);
        let name_end = bytes[name_start.min(bytes.len())..]
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'-' || *c == b':'))
            .map_or(bytes.len(), |q| name_start + q);
        if name_end == name_start {
            j = p + 1;
            continue;
        }
        let tag = &bytes[name_start..name_end];
        let Some(end) = tag_end(bytes, name_end) else {
            return bytes.len();
        };
        if tag.eq_ignore_ascii_case(name) {
            if closing {
                depth -= 1;
                if depth == 0 {
                    return end + 1;
                }
            } else if bytes[end - 1] != b'/' {
                depth += 1;
            }
        } else if !closing
            && RAW_TEXT_TAGS
                .iter()
                .any(|t| t.as_bytes().eq_ignore_ascii_case(tag))
        {
            j = raw_text_end(bytes, end + 1, tag);
            continue;
        }
        j = end + 1;
    }
    bytes.len()
}

/// Index of the `>` closing a tag whose name ends at `from`, skipping quoted attribute values.
/// An unbalanced quote falls back to the first `>` after the name.
fn tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut j = from;
    while j < bytes.len() {
        match bytes[j] {
            b'>' => return Some(j),
            q @ (b'"' | b'\'') => match bytes[j + 1..].iter().position(|&c| c == q) {
                Some(p) => j += p + 2,
                None => return find(bytes, from, b">"),
            },
            _ => j += 1,
        }
    }
    None
}

/// Index just past the end tag `</name …>` of a raw-text element whose contents start at
/// `from`; the end of the input when there is none.
fn raw_text_end(bytes: &[u8], from: usize, name: &[u8]) -> usize {
    let mut j = from;
    while let Some(p) = find(bytes, j, b"</") {
        let name_start = p + 2;
        let name_end = name_start + name.len();
        let matches = name_end <= bytes.len()
            && bytes[name_start..name_end].eq_ignore_ascii_case(name)
            && bytes
                .get(name_end)
                .is_none_or(|c| !c.is_ascii_alphanumeric());
        if matches {
            return find(bytes, name_end, b">").map_or(bytes.len(), |q| q + 1);
        }
        j = p + 2;
    }
    bytes.len()
}

/// Handles a character reference starting at `html[i] == '&'`; returns the index just past it.
fn reference(html: &str, i: usize, out: &mut String) -> usize {
    let bytes = html.as_bytes();
    let mut j = i + 1;
    if bytes.get(j) == Some(&b'#') {
        j += 1;
        let hex = matches!(bytes.get(j), Some(b'x' | b'X'));
        if hex {
            j += 1;
        }
        let digits_start = j;
        let mut value: u32 = 0;
        while let Some(&c) = bytes.get(j) {
            let digit = if hex {
                (c as char).to_digit(16)
            } else {
                (c as char).to_digit(10)
            };
            let Some(d) = digit else { break };
            value = value
                .saturating_mul(if hex { 16 } else { 10 })
                .saturating_add(d);
            j += 1;
        }
        if j == digits_start {
            out.push('&');
            return i + 1;
        }
        if bytes.get(j) == Some(&b';') {
            j += 1;
        }
        let c = match value {
            0 => '\u{FFFD}',
            v => char::from_u32(v).unwrap_or('\u{FFFD}'),
        };
        out.push(c);
        return j;
    }
    let name_end = bytes[j..]
        .iter()
        .take(MAX_NAME_LEN + 1)
        .position(|c| !c.is_ascii_alphanumeric())
        .map(|p| j + p);
    if let Some(end) = name_end {
        if bytes[end] == b';' {
            let name = &html[j..end];
            if let Some((_, text)) = NAMED_REFERENCES.iter().find(|(n, _)| *n == name) {
                out.push_str(text);
                return end + 1;
            }
        }
    }
    out.push('&');
    i + 1
}

/// Ends the current text block: trailing spaces removed, then a line break unless the text is
/// empty or already ends with one.
fn separate(out: &mut String) {
    while out.ends_with([' ', '\t']) {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// First index `>= from` where `needle` occurs in `hay`.
fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn tags_removed_and_blocks_separate_words() {
        let text = strip_html("<p>one</p><p>two</p>three<br>four<li>five</li><h2>six</h2>");
        assert_eq!(words(&text), ["one", "two", "three", "four", "five", "six"]);
    }

    #[test]
    fn inline_tags_do_not_split_words() {
        assert_eq!(
            strip_html("un<b>break</b>able <a href='x'>link</a>"),
            "unbreakable link"
        );
    }

    #[test]
    fn script_style_and_comments_dropped() {
        let html = "<html><head><title>Title here</title>\
            <style>body { color: red; } p > a {}</style>\
            <script type=\"text/javascript\">var x = '<p>not text</p>'; if (a < b) {}</script>\
            </head><body><!-- a comment <p>hidden</p> -->visible<SCRIPT>alert(1)</SCRIPT>end\
            </body></html>";
        let text = strip_html(html);
        assert_eq!(words(&text), ["Title", "here", "visible", "end"]);
    }

    #[test]
    fn script_end_tag_needs_full_name() {
        let text = strip_html("<script>a</scripts> b</script>after");
        assert_eq!(words(&text), ["after"]);
    }

    #[test]
    fn entities_decoded() {
        let text = strip_html("fish &amp; chips &lt;b&gt; &quot;q&quot; it&#39;s caf&#233; caf&#xE9; a&nbsp;b &eacute;t&eacute;");
        assert_eq!(text, "fish & chips <b> \"q\" it's café café a b été");
    }

    #[test]
    fn unknown_or_malformed_entities_kept() {
        assert_eq!(
            strip_html("AT&T &bogus; &; &#; &#x; a & b"),
            "AT&T &bogus; &; &#; &#x; a & b"
        );
        assert_eq!(strip_html("&#0; &#99999999999;"), "\u{FFFD} \u{FFFD}");
        assert_eq!(strip_html("&#65"), "A");
    }

    #[test]
    fn quoted_attributes_may_hold_angle_brackets() {
        assert_eq!(strip_html("<a title=\"a > b\">x</a>y"), "xy");
        assert_eq!(strip_html("<img alt='1 > 0'/>z"), "z");
    }

    #[test]
    fn literal_less_than_is_text() {
        assert_eq!(strip_html("a < b and 3<4 <"), "a < b and 3<4 <");
    }

    #[test]
    fn doctype_and_cdata() {
        assert_eq!(
            strip_html("<!DOCTYPE html><?xml x?>a<![CDATA[b<c]]>d"),
            "ab<cd"
        );
    }

    #[test]
    fn malformed_markup_never_panics() {
        let cases = [
            "<",
            "<p",
            "</",
            "<!--",
            "<!-- x",
            "<![CDATA[",
            "<script>",
            "<script",
            "<style>x</sty",
            "<a href=\"unterminated>text</a> more",
            "<a href='x>",
            "&",
            "&#",
            "&#x",
            "&amp",
            "<p>é</p>&eacute",
            "<<<>>>",
            "</script>",
            "<script/>ok",
            "ü<ü>ü&ü;",
        ];
        for case in cases {
            let _ = strip_html(case);
        }
        assert_eq!(strip_html("<script/>ok"), "ok");
        assert_eq!(strip_html("ü<ü>ü&ü;"), "ü<ü>ü&ü;");
        // An unbalanced quote falls back to the first `>`.
        assert_eq!(
            words(&strip_html("<a href=\"x>text</a> more")),
            ["text", "more"]
        );
    }

    #[test]
    fn random_markup_soup_never_panics_and_keeps_plain_letters() {
        const PIECES: &[&str] = &[
            "<",
            ">",
            "&",
            ";",
            "#",
            "x",
            "/",
            "!",
            "-",
            "'",
            "\"",
            "=",
            "p",
            "script",
            "style",
            "amp",
            "é",
            "中",
            " ",
            "\n",
            "<!--",
            "-->",
            "</",
            "<![CDATA[",
            "]]>",
            "&#",
            "9",
            "b",
        ];
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..3000 {
            let len = (next() % 40) as usize;
            let doc: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            let text = strip_html(&doc);
            // Markup only removes or decodes: never more text than input (plus separators).
            assert!(text.len() <= doc.len() * 2 + 4, "{doc:?} -> {text:?}");
        }
        // Text without markup characters passes through unchanged.
        assert_eq!(strip_html("plain text, é 中 ok"), "plain text, é 中 ok");
    }

    #[test]
    fn page_furniture_is_dropped_unless_kept() {
        let html = "<html><body><header><h1>Site</h1><nav><a>Home</a></nav></header>\
            <div class=\"related\" role=\"navigation\"><div><div>index</div></div> modules</div>\
            <div role=\"main\"><p>real\ncontent</p><div>more <b>text</b></div></div>\
            <aside>sidebar</aside><div id=\"s\" role='search'><input role=\"search\">Quick search</div>\
            <NAV>x<nav>nested</nav>still nav</NAV><footer>&copy; Copyright<script>var x = '</footer>';</script> 2023</footer>\
            <p>after</p></body></html>";
        assert_eq!(strip_html(html), "real content\nmore text\nafter");
        let kept = strip_html_with(
            html,
            &HtmlOptions {
                keep_boilerplate: true,
            },
        );
        for w in [
            "Site",
            "Home",
            "index",
            "modules",
            "sidebar",
            "Quick search",
            "nested",
            "still nav",
            "Copyright",
            "2023",
        ] {
            assert!(kept.contains(w), "{w} missing from {kept:?}");
        }
        // An unclosed furniture element swallows the rest, as an unclosed tag does.
        assert_eq!(strip_html("<p>a</p><nav><p>b"), "a");
    }

    #[test]
    fn blocks_are_lines() {
        let text = strip_html("<p>one\n two</p><li>three</li>  <td>four   five</td>");
        assert_eq!(
            text_blocks(&text).collect::<Vec<_>>(),
            ["one two", "three", "four five"]
        );
    }

    #[test]
    fn attributes_are_found_quoted_or_not() {
        assert_eq!(attribute(" class=\"a b\" role=nav", "role"), Some("nav"));
        assert_eq!(attribute(" ROLE='x y'", "role"), Some("x y"));
        assert_eq!(attribute(" data-role=\"x\" hidden", "role"), None);
        assert_eq!(attribute(" hidden role", "role"), Some(""));
        assert_eq!(attribute("=\"=\" role=\"", "role"), Some(""));
    }

    #[test]
    fn every_prefix_of_a_document_is_safe() {
        let html =
            "<p class=\"a\">h&eacute;llo <b>w</b>orld</p><script>x</script>&#x263A;<!-- c -->é";
        for end in (0..=html.len()).filter(|&e| html.is_char_boundary(e)) {
            let _ = strip_html(&html[..end]);
        }
    }
}
