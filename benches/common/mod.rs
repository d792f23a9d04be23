//! Floors shared by the XML benches: work that no implementation over the chosen crates can
//! skip, measured in the same group as the code it bounds.

/// Every quick-xml event of `text`, read with the checks our parser turns on and nothing
/// kept: the tokenizing that any tree built with quick-xml pays.
pub(crate) fn tokenize(text: &str) -> usize {
    let mut reader = quick_xml::Reader::from_str(text);
    let cfg = reader.config_mut();
    cfg.check_comments = true;
    cfg.check_end_names = true;
    cfg.trim_text(false);
    let mut events = 0;
    while !matches!(
        reader.read_event().expect("well-formed"),
        quick_xml::events::Event::Eof
    ) {
        events += 1;
    }
    events
}
