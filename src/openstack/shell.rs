//! Shell text → `openstack` invocations: the trailing `-- openstack server list` of the command line, and
//! every `openstack` line of a script (`\` continuations joined, comments and here-documents skipped,
//! `$VARS`, `$(...)`, `<placeholders>` kept as values policy-sim cannot know, `OS_TOKEN=$(openstack ...)`
//! found inside the substitution, `export OS_*=...` tracked). Nothing is executed or expanded.

/// What a word is, for deciding what can be known before the script runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordKind {
    /// Plain text (quotes removed).
    Literal,
    /// Depends on the script's run: `$VAR`, `${VAR}`, `$(cmd)`, `` `cmd` ``.
    Dynamic,
    /// A documentation placeholder: `<your VM>`.
    Placeholder,
    /// A shell operator that ends a command: `|`, `;`, `&&`, `||`, `&`, a redirection.
    Operator,
}

/// One shell word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word as written (quotes kept), for display.
    pub raw: String,
    /// The word's value with quotes removed (for literal words).
    pub value: String,
    pub kind: WordKind,
}

impl Word {
    pub fn literal(s: &str) -> Word {
        Word {
            raw: s.to_owned(),
            value: s.to_owned(),
            kind: WordKind::Literal,
        }
    }

    /// A value known before the script runs.
    pub fn known(&self) -> Option<&str> {
        (self.kind == WordKind::Literal).then_some(self.value.as_str())
    }
}

/// Split one logical line into words. Stops at an unmatched `)` or `` ` `` (the end of the command
/// substitution the text started in) and returns the byte offset where it stopped.
pub fn words(text: &str) -> (Vec<Word>, usize) {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let offset = |i: usize| chars.get(i).map_or(text.len(), |&(o, _)| o);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let Some(c) = at(i) else { break };
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == ')' || c == '`' {
            return (out, offset(i));
        }
        // Operators.
        let two: String = [at(i), at(i + 1)].iter().flatten().collect();
        let op = if ["&&", "||", ">>", "2>", "<<"].contains(&two.as_str()) {
            Some(2)
        } else if matches!(c, '|' | ';' | '&' | '>')
            || (c == '<' && !text.get(offset(i)..).is_some_and(|r| r.contains('>')))
        {
            Some(1)
        } else {
            None
        };
        if let Some(n) = op {
            let s: String = chars.iter().skip(i).take(n).map(|&(_, c)| c).collect();
            out.push(Word {
                raw: s.clone(),
                value: s,
                kind: WordKind::Operator,
            });
            i += n;
            continue;
        }
        // One word.
        let start = i;
        let mut value = String::new();
        let mut kind = WordKind::Literal;
        while let Some(c) = at(i) {
            if c.is_whitespace() || matches!(c, '|' | ';' | '&' | '>' | ')' | '`') {
                break;
            }
            match c {
                '<' => {
                    // A placeholder, spaces and all, up to its `>` (a `<` with no `>` after it is a
                    // redirection, taken as an operator above).
                    let rest = text.get(offset(i)..).unwrap_or("");
                    let Some(close) = rest.find('>') else { break };
                    i += rest.get(..=close).map_or(1, |s| s.chars().count());
                    kind = if i > start && value.is_empty() && kind != WordKind::Dynamic {
                        WordKind::Placeholder
                    } else {
                        WordKind::Dynamic
                    };
                }
                '\\' => {
                    if let Some(n) = at(i + 1) {
                        value.push(n);
                    }
                    i += 2;
                }
                '\'' => {
                    i += 1;
                    while let Some(c) = at(i) {
                        i += 1;
                        if c == '\'' {
                            break;
                        }
                        value.push(c);
                    }
                }
                '"' => {
                    i += 1;
                    while let Some(c) = at(i) {
                        if c == '"' {
                            i += 1;
                            break;
                        }
                        if c == '\\' {
                            if let Some(n) = at(i + 1) {
                                value.push(n);
                            }
                            i += 2;
                            continue;
                        }
                        if c == '$' || c == '`' {
                            kind = WordKind::Dynamic;
                        }
                        value.push(c);
                        i += 1;
                    }
                }
                '$' if at(i + 1) == Some('(') => {
                    kind = WordKind::Dynamic;
                    i = matching_paren(&chars, i + 1) + 1;
                }
                '$' if at(i + 1)
                    .is_some_and(|n| n == '{' || n == '_' || n.is_ascii_alphanumeric()) =>
                {
                    kind = WordKind::Dynamic;
                    i += 1;
                    if at(i) == Some('{') {
                        while let Some(c) = at(i) {
                            i += 1;
                            if c == '}' {
                                break;
                            }
                        }
                    } else {
                        while at(i).is_some_and(|n| n == '_' || n.is_ascii_alphanumeric()) {
                            i += 1;
                        }
                    }
                }
                c => {
                    value.push(c);
                    i += 1;
                }
            }
        }
        if i == start {
            i += 1;
        }
        let raw = text.get(offset(start)..offset(i)).unwrap_or("").to_owned();
        if kind != WordKind::Literal {
            value = raw.clone();
        }
        out.push(Word { raw, value, kind });
    }
    (out, text.len())
}

/// The index of the `)` closing the `(` at `open`, quotes and nesting respected (the end if none).
fn matching_paren(chars: &[(usize, char)], open: usize) -> usize {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut i = open;
    while let Some(&(_, c)) = chars.get(i) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
        i += 1;
    }
    chars.len()
}

/// An `openstack` invocation found in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// 1-based line number where the logical line starts.
    pub line: usize,
    /// The words after `openstack`, up to the end of the command.
    pub argv: Vec<Word>,
    /// `NAME=value` assignments written right before `openstack` (they apply to it alone).
    pub prefix: Vec<(String, Word)>,
}

/// What a script line does that matters here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An `openstack` command.
    Command(Found),
    /// `export NAME=value`: applies to the lines after it.
    Export {
        line: usize,
        name: String,
        value: Word,
    },
}

/// Every `openstack` invocation and `export` of a shell script, in order.
pub fn script(text: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut heredoc: Option<(String, bool)> = None;
    let mut logical = String::new();
    let mut start = 0usize;
    for (n, physical) in text.lines().enumerate() {
        let n = n + 1;
        if let Some((end, dash)) = &heredoc {
            let l = if *dash {
                physical.trim_start()
            } else {
                physical
            };
            if l == end {
                heredoc = None;
            }
            continue;
        }
        if logical.is_empty() {
            start = n;
        }
        let trailing = physical.len() - physical.trim_end_matches('\\').len();
        if trailing % 2 == 1 {
            if let Some(s) = physical.get(..physical.len() - 1) {
                logical.push_str(s);
            }
            logical.push(' ');
            continue;
        }
        logical.push_str(physical);
        let line = std::mem::take(&mut logical);
        let line = strip_comment(&line);
        heredoc = heredoc_start(&line);
        scan_line(&line, start, &mut items);
    }
    if !logical.is_empty() {
        let line = strip_comment(&logical);
        scan_line(&line, start, &mut items);
    }
    items
}

/// The line without its comment (a `#` starting a word, outside quotes) and without a `$ ` prompt.
fn strip_comment(line: &str) -> String {
    let line = line.trim_start();
    let line = line.strip_prefix("$ ").unwrap_or(line);
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '#') if prev.is_whitespace() => return line.get(..i).unwrap_or("").to_owned(),
            _ => {}
        }
        prev = c;
    }
    line.to_owned()
}

/// `cat <<EOF` / `<<-'EOF'`: the terminator of the here-document the line opens.
fn heredoc_start(line: &str) -> Option<(String, bool)> {
    let i = line.find("<<")?;
    let rest = line.get(i + 2..)?;
    if rest.starts_with('<') {
        return None; // `<<<` here-string
    }
    let (dash, rest) = match rest.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let word: String = rest
        .trim_start()
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ';' | '|' | '&' | ')'))
        .filter(|c| !matches!(c, '\'' | '"'))
        .collect();
    (!word.is_empty()).then_some((word, dash))
}

/// Words that keep the next word in command position.
const PREFIXES: [&str; 10] = [
    "then", "do", "else", "exec", "time", "sudo", "command", "env", "xargs", "!",
];

fn is_assignment(w: &Word) -> Option<(String, Word)> {
    let (name, _) = w.raw.split_once('=')?;
    if name.is_empty()
        || !name.chars().all(|c| c == '_' || c.is_ascii_alphanumeric())
        || name.starts_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    let value_raw = w.raw.get(name.len() + 1..).unwrap_or("");
    let (mut words, _) = words(value_raw);
    let value = if words.len() == 1 {
        words.pop().unwrap_or_else(|| Word::literal(""))
    } else if words.is_empty() {
        Word::literal("")
    } else {
        Word {
            raw: value_raw.to_owned(),
            value: value_raw.to_owned(),
            kind: WordKind::Dynamic,
        }
    };
    Some((name.to_owned(), value))
}

/// Find the invocations of one logical line (and of the `$(...)` substitutions inside it).
fn scan_line(line: &str, number: usize, items: &mut Vec<Item>) {
    let (ws, _) = words(line);
    // The commands first: in `export OS_TOKEN=$(openstack token issue ...)` the substitution runs before
    // the variable is exported.
    scan_words(line, number, items);
    // `export NAME=value ...`
    if ws.first().is_some_and(|w| w.raw == "export") {
        for w in ws.iter().skip(1) {
            if let Some((name, value)) = is_assignment(w) {
                items.push(Item::Export {
                    line: number,
                    name,
                    value,
                });
            }
        }
    }
}

/// Scan a command text for `openstack` at command position; recurse into `$(...)` and backticks.
fn scan_words(text: &str, number: usize, items: &mut Vec<Item>) {
    // Substitutions first, in order of appearance: their commands run before the outer one.
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut i = 0;
    let mut quote: Option<char> = None;
    while let Some(&(o, c)) = chars.get(i) {
        match (quote, c) {
            (Some('\''), '\'') => quote = None,
            (Some('\''), _) => {}
            (Some('"'), '"') => quote = None,
            (None, '\'' | '"') => quote = Some(c),
            (_, '$') if chars.get(i + 1).map(|x| x.1) == Some('(') => {
                let end = matching_paren(&chars, i + 1);
                let inner_start = chars.get(i + 2).map_or(text.len(), |x| x.0);
                let inner_end = chars.get(end).map_or(text.len(), |x| x.0);
                if let Some(inner) = text.get(inner_start..inner_end) {
                    scan_words(inner, number, items);
                }
                i = end + 1;
                continue;
            }
            (_, '`') => {
                let rest = text.get(o + 1..).unwrap_or("");
                if let Some(close) = rest.find('`') {
                    if let Some(inner) = rest.get(..close) {
                        scan_words(inner, number, items);
                    }
                    let skip = inner_len_chars(rest, close);
                    i += skip + 2;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    // The outer words: find `openstack` at command position.
    let (ws, _) = words(text);
    let mut command_position = true;
    let mut prefix: Vec<(String, Word)> = Vec::new();
    let mut k = 0;
    while let Some(w) = ws.get(k) {
        if w.kind == WordKind::Operator {
            command_position = true;
            prefix.clear();
            k += 1;
            continue;
        }
        if command_position {
            if let Some(a) = is_assignment(w) {
                prefix.push(a);
                k += 1;
                continue;
            }
            if w.kind == WordKind::Literal
                && (w.value == "openstack" || w.value.ends_with("/openstack"))
            {
                let argv: Vec<Word> = ws
                    .iter()
                    .skip(k + 1)
                    .take_while(|x| x.kind != WordKind::Operator)
                    .cloned()
                    .collect();
                k += 1 + argv.len();
                items.push(Item::Command(Found {
                    line: number,
                    argv,
                    prefix: std::mem::take(&mut prefix),
                }));
                command_position = false;
                continue;
            }
            if PREFIXES.contains(&w.raw.as_str()) || w.raw == "(" || w.raw == "{" {
                k += 1;
                continue;
            }
        }
        command_position = false;
        prefix.clear();
        k += 1;
    }
}

fn inner_len_chars(rest: &str, close_byte: usize) -> usize {
    rest.get(..close_byte).map_or(0, |s| s.chars().count())
}

/// The options that carry secrets: their values are never shown.
pub const SECRET_OPTIONS: [&str; 6] = [
    "--os-client-secret",
    "--os-password",
    "--os-token",
    "--os-access-token",
    "--os-application-credential-secret",
    "--os-refresh-token",
];

/// The environment variables that carry secrets.
pub fn is_secret_variable(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    n.contains("SECRET") || n.contains("PASSWORD") || n.contains("TOKEN")
}

/// Words for display, secrets replaced by `***`.
pub fn display(words: &[Word]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut hide_next = false;
    for w in words {
        if hide_next {
            out.push(String::from("***"));
            hide_next = false;
            continue;
        }
        let (name, has_value) = match w.raw.split_once('=') {
            Some((n, _)) => (n, true),
            None => (w.raw.as_str(), false),
        };
        if SECRET_OPTIONS.contains(&name) {
            if has_value {
                out.push(format!("{name}=***"));
            } else {
                out.push(w.raw.clone());
                hide_next = true;
            }
        } else if has_value && !name.starts_with('-') && is_secret_variable(name) {
            out.push(format!("{name}=***"));
        } else {
            out.push(w.raw.clone());
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;

    fn commands(text: &str) -> Vec<(usize, String)> {
        script(text)
            .into_iter()
            .filter_map(|i| match i {
                Item::Command(f) => Some((f.line, display(&f.argv))),
                Item::Export { .. } => None,
            })
            .collect()
    }

    #[test]
    fn words_know_what_is_dynamic() {
        let (w, _) =
            words(r#"server create --flavor $FLAVOR --image "${IMG}" <name of VM> 'a b' x\ y"#);
        let kinds: Vec<WordKind> = w.iter().map(|w| w.kind).collect();
        use WordKind::*;
        assert_eq!(
            kinds,
            [
                Literal,
                Literal,
                Literal,
                Dynamic,
                Literal,
                Dynamic,
                Placeholder,
                Literal,
                Literal
            ]
        );
        assert_eq!(w[6].raw, "<name of VM>");
        assert_eq!(w[7].value, "a b");
        assert_eq!(w[8].value, "x y");
    }

    #[test]
    fn scripts_give_their_openstack_lines() {
        let text = "# list\nopenstack server list  # a comment\nopenstack server create --flavor $F \\\n  --image <img> \\\n  vm1\n\
OS_TOKEN=$(openstack --os-auth-type v3oidcaccesstoken \\\n   token issue -c id -f value)\necho openstack server list\n\
cat <<EOF\nopenstack server delete x\nEOF\nfor s in $(openstack server list -f value); do openstack server show $s; done\n";
        assert_eq!(
            commands(text),
            [
                (2, String::from("server list")),
                (
                    3,
                    String::from("server create --flavor $F --image <img> vm1")
                ),
                (
                    6,
                    String::from("--os-auth-type v3oidcaccesstoken token issue -c id -f value")
                ),
                (12, String::from("server list -f value")),
                (12, String::from("server show $s")),
            ]
        );
    }

    #[test]
    fn secrets_are_hidden() {
        let (w, _) =
            words("--os-client-secret s3cr3t --os-password=pw OS_CLIENT_SECRET=x server list");
        assert_eq!(
            display(&w),
            "--os-client-secret *** --os-password=*** OS_CLIENT_SECRET=*** server list"
        );
    }

    #[test]
    fn exports_are_tracked() {
        let items =
            script("export OS_PROJECT_ID=abc OS_CLOUD=$C\nOS_CLOUD=ovh openstack server list\n");
        assert!(
            matches!(&items[0], Item::Export { name, value, .. } if name == "OS_PROJECT_ID" && value.known() == Some("abc"))
        );
        assert!(
            matches!(&items[1], Item::Export { name, value, .. } if name == "OS_CLOUD" && value.known().is_none())
        );
        let Item::Command(f) = &items[2] else {
            panic!()
        };
        assert_eq!(f.prefix[0].0, "OS_CLOUD");
    }
}
