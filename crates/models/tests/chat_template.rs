//! Chat template rendering: the ChatML fallback, template variables, Python string
//! methods, and readable errors.

mod tiny_vocab;

use candle_core::quantized::gguf_file::Value;
use tandem_models::template::CHATML_TEMPLATE;
use tandem_models::{ChatMessage, ChatTemplate};
use tiny_vocab::*;

#[test]
fn a_model_without_template_gets_chatml() {
    let tok = load(&metadata());
    let template = ChatTemplate::from_tokenizer(&tok).unwrap();
    assert!(template.is_fallback());
    let messages = [ChatMessage::system("Be brief."), ChatMessage::user("hello")];
    assert_eq!(
        template.render(&messages, true).unwrap(),
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhello<|im_end|>\n<|im_start|>assistant\n"
    );
    assert_eq!(
        template.render(&[ChatMessage::assistant("ok")], false).unwrap(),
        "<|im_start|>assistant\nok<|im_end|>\n"
    );
    // The rendered prompt becomes control tokens when tokenized for the model.
    let ids = tok.encode(&template.render(&[ChatMessage::user("hello")], false).unwrap(), true).unwrap();
    assert_eq!(
        ids,
        [IM_START, b'u' as u32, b's' as u32, b'e' as u32, b'r' as u32, b'\n' as u32, HELLO, IM_END, b'\n' as u32]
    );
}

#[test]
fn the_model_template_sees_bos_eos_and_python_methods() {
    let mut meta = metadata();
    let source = "{{ bos_token }}{% for m in messages %}[{{ m.role.upper() }}] {{ m.content.strip() }}\n{% endfor %}\
                  {% if add_generation_prompt %}{{ eos_token }}{% endif %}";
    set(&mut meta, "tokenizer.chat_template", Value::String(source.into()));
    let template = ChatTemplate::from_tokenizer(&load(&meta)).unwrap();
    assert!(!template.is_fallback());
    let messages = [ChatMessage::user("  padded  "), ChatMessage::new("assistant", "done")];
    assert_eq!(
        template.render(&messages, true).unwrap(),
        "<|endoftext|>[USER] padded\n[ASSISTANT] done\n<|endoftext|>"
    );
    assert_eq!(template.render(&messages, false).unwrap(), "<|endoftext|>[USER] padded\n[ASSISTANT] done\n");
}

#[test]
fn blocks_are_trimmed_like_transformers() {
    let source = "{% for m in messages %}\n    {{ m.content }}\n{% endfor %}\n";
    let template = ChatTemplate::new(Some(source), "", "").unwrap();
    assert_eq!(template.render(&[ChatMessage::user("a"), ChatMessage::user("b")], false).unwrap(), "    a\n    b\n");
}

#[test]
fn raise_exception_fails_the_render_with_its_message() {
    let source = "{% if messages[0].role != 'user' %}{{ raise_exception('Conversations must start with the user') }}{% endif %}ok";
    let template = ChatTemplate::new(Some(source), "<s>", "</s>").unwrap();
    assert_eq!(template.render(&[ChatMessage::user("hi")], true).unwrap(), "ok");
    let err = template.render(&[ChatMessage::system("x")], true).unwrap_err();
    assert_eq!(err.code(), "template");
    assert!(err.to_string().contains("Conversations must start with the user"), "{err}");
}

#[test]
fn a_broken_template_is_reported_when_loaded() {
    let err = ChatTemplate::new(Some("{% for m in messages %}no end"), "", "").err().unwrap();
    assert_eq!(err.code(), "template");
    assert!(err.to_string().starts_with("the model's chat template does not compile"), "{err}");
    assert!(ChatTemplate::new(Some(CHATML_TEMPLATE), "", "").is_ok());
}
