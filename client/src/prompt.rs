//! Reading the number of images a prompt asks for ("Generate 3 images", "three images").

/// The number of images the prompt states, if it states one.
pub fn stated_count(prompt: &str) -> Option<u64> {
    let _ = prompt;
    None
}
