//! Stop strings cut the answer before the stop text, however the text is split into tokens.

mod tiny_vocab;

use std::sync::Arc;

use tandem_models::StopStrings;
use tiny_vocab::*;

#[test]
fn cuts_before_the_stop_text_when_it_arrives_token_by_token() {
    let tok = Arc::new(load(&metadata()));
    let ids = tok.encode("say hello. END and more", false).unwrap();
    let mut stop = StopStrings::new(tok.clone(), &["END".to_string()]);
    let mut cut = None;
    for n in 1..=ids.len() {
        if let Some(keep) = stop.check(&ids[..n]) {
            cut = Some((n, keep));
            break;
        }
    }
    let (seen, keep) = cut.expect("the stop string was found");
    assert_eq!(tok.decode(&ids[..keep]), "say hello. ");
    assert_eq!(tok.decode(&ids[..seen]), "say hello. END", "found as soon as its last token arrived");
}

#[test]
fn earliest_of_several_stops_wins_and_absent_stops_never_fire() {
    let tok = Arc::new(load(&metadata()));
    let ids = tok.encode("one\n\ntwo STOP three", false).unwrap();
    let mut stop = StopStrings::new(tok.clone(), &["STOP".to_string(), "\n\n".to_string()]);
    let keep = stop.check(&ids).expect("found");
    assert_eq!(tok.decode(&ids[..keep]), "one");
    let mut none = StopStrings::new(tok.clone(), &["zzz".to_string(), String::new()]);
    assert_eq!(none.check(&ids), None);
}

#[test]
fn a_stop_inside_a_token_drops_that_token() {
    let tok = Arc::new(load(&metadata()));
    // "hello" is one token in the tiny vocabulary: a stop at "ll" cannot keep "he".
    let ids = tok.encode("ahello", false).unwrap();
    assert!(ids.contains(&HELLO));
    let mut stop = StopStrings::new(tok.clone(), &["ll".to_string()]);
    let keep = stop.check(&ids).expect("found");
    assert_eq!(tok.decode(&ids[..keep]), "a");
}
