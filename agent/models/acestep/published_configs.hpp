#pragma once
// The config.json files of the published ACE-Step 1.5 turbo checkpoint
// folders (shape keys only), for building the full-size networks with random
// weights in smoke tests and benchmarks, where the real weights are absent.

namespace ferry::acestep {

/// acestep-v15-turbo/config.json: condition encoder and DiT (2 B parameters).
inline constexpr const char* kPublishedTurboConfig = R"({
  "hidden_size": 2048, "intermediate_size": 6144, "num_hidden_layers": 24,
  "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128,
  "rms_norm_eps": 1e-06, "rope_theta": 1000000, "rope_scaling": null, "attention_bias": false,
  "use_sliding_window": true, "sliding_window": 128,
  "text_hidden_dim": 1024, "num_lyric_encoder_hidden_layers": 8,
  "timbre_hidden_dim": 64, "num_timbre_encoder_hidden_layers": 4, "timbre_fix_frame": 750,
  "patch_size": 2, "in_channels": 192, "audio_acoustic_hidden_dim": 64, "model_version": "turbo",
  "layer_types": ["sliding_attention", "full_attention", "sliding_attention", "full_attention",
                  "sliding_attention", "full_attention", "sliding_attention", "full_attention",
                  "sliding_attention", "full_attention", "sliding_attention", "full_attention",
                  "sliding_attention", "full_attention", "sliding_attention", "full_attention",
                  "sliding_attention", "full_attention", "sliding_attention", "full_attention",
                  "sliding_attention", "full_attention", "sliding_attention", "full_attention"]
})";

/// Qwen3-Embedding-0.6B/config.json: the text encoder (0.6 B parameters).
inline constexpr const char* kPublishedQwen3EmbeddingConfig = R"({
  "vocab_size": 151669, "hidden_size": 1024, "intermediate_size": 3072,
  "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8,
  "head_dim": 128, "rope_theta": 1000000, "rms_norm_eps": 1e-06,
  "hidden_act": "silu", "attention_bias": false, "model_type": "qwen3",
  "rope_scaling": null, "sliding_window": null, "use_sliding_window": false,
  "max_position_embeddings": 32768, "tie_word_embeddings": true, "torch_dtype": "bfloat16"})";

/// vae/config.json: the Oobleck VAE (48 kHz stereo, 1920 samples per latent frame).
inline constexpr const char* kPublishedVaeConfig = R"({
  "_class_name": "AutoencoderOobleck", "audio_channels": 2, "sampling_rate": 48000,
  "encoder_hidden_size": 128, "decoder_channels": 128, "decoder_input_channels": 64,
  "channel_multiples": [1, 2, 4, 8, 16], "downsampling_ratios": [2, 4, 4, 6, 10]})";

}  // namespace ferry::acestep
