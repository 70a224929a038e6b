//! The real models' own chat templates, rendered and tokenized.

mod real_models;

use real_models::{real_tokenizer, QWEN_TARGET, SMOLLM2};
use tandem_models::{ChatMessage, ChatTemplate};

const QWEN_DEFAULT_SYSTEM: &str = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

#[test]
fn real_qwen_template_renders_chatml() {
    let tok = real_tokenizer(QWEN_TARGET);
    let template = ChatTemplate::from_tokenizer(&tok).unwrap();
    assert!(!template.is_fallback());
    let messages = [ChatMessage::system("You write Rust."), ChatMessage::user("Reverse a string.")];
    assert_eq!(
        template.render(&messages, true).unwrap(),
        "<|im_start|>system\nYou write Rust.<|im_end|>\n<|im_start|>user\nReverse a string.<|im_end|>\n<|im_start|>assistant\n"
    );
    assert_eq!(
        template.render(&messages, false).unwrap(),
        "<|im_start|>system\nYou write Rust.<|im_end|>\n<|im_start|>user\nReverse a string.<|im_end|>\n"
    );
}

#[test]
fn real_qwen_template_adds_its_default_system_prompt() {
    let tok = real_tokenizer(QWEN_TARGET);
    let template = ChatTemplate::from_tokenizer(&tok).unwrap();
    let rendered = template
        .render(&[ChatMessage::user("hi"), ChatMessage::assistant("Hello!"), ChatMessage::user("bye")], true)
        .unwrap();
    assert_eq!(
        rendered,
        format!(
            "<|im_start|>system\n{QWEN_DEFAULT_SYSTEM}<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n\
             <|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\n"
        )
    );
    // The rendered prompt tokenizes into the control tokens, and ends with the
    // generation prompt "<|im_start|>assistant\n".
    let ids = tok.encode(&rendered, true).unwrap();
    assert_eq!(ids.iter().filter(|&&id| id == 151644).count(), 5);
    assert_eq!(ids.iter().filter(|&&id| id == 151645).count(), 4);
    assert_eq!(&ids[ids.len() - 3..], [151644, 77091, 198]);
}

#[test]
fn real_smollm2_template_renders() {
    let tok = real_tokenizer(SMOLLM2);
    let template = ChatTemplate::from_tokenizer(&tok).unwrap();
    assert_eq!(
        template.render(&[ChatMessage::user("hi")], true).unwrap(),
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
         <|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    );
}
