#pragma once
// The two texts ACE-Step 1.5's DiT is conditioned on, assembled exactly as
// upstream does (constants.SFT_GEN_PROMPT, handler._dict_to_meta_string,
// handler._format_lyrics), and their token ids with upstream's truncation.
//
//   caption: "# Instruction\n<instruction>\n\n# Caption\n<caption>\n\n# Metas\n"
//            "- bpm: <bpm|N/A>\n- timesignature: <n|N/A>\n- keyscale: <key|N/A>\n"
//            "- duration: <whole seconds> seconds\n<|endoftext|>\n"
//   lyrics:  "# Languages\n<language>\n\n# Lyric\n<lyrics>[<|endoftext|>]"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/models/acestep/qwen_tokenizer.hpp"
#include "common/error.hpp"

namespace ferry::acestep {

/// What the DiT is asked to do; each task has its own instruction line.
enum class GenerationTask { text2music, repaint, cover };

/// The instruction line upstream writes for `task`.
std::string_view task_instruction(GenerationTask task);

/// One song's text conditions, as a user gives them.
struct PromptRequest {
  std::string caption;                ///< what the music sounds like; required
  std::string lyrics;                 ///< section-tagged lyrics; "" for none (an instrumental)
  bool instrumental = false;          ///< no vocals: the lyric becomes "[Instrumental]"
  std::string language = "unknown";   ///< vocal language code ("en", "zh", ...) or "unknown"
  double duration_s = 0;              ///< 10 to 600 seconds
  std::optional<int> bpm;             ///< 30 to 300, or unset ("N/A")
  std::string key;                    ///< "F# minor", "B♭ major"; "" unset ("N/A")
  std::optional<int> time_signature;  ///< beats per bar: 2, 3, 4 or 6, or unset ("N/A")
  GenerationTask task = GenerationTask::text2music;
};

/// The lyric upstream was trained with for songs without vocals.
inline constexpr std::string_view kInstrumentalLyric = "[Instrumental]";
/// Upstream's tokenizer limits: max_length for the caption and the lyrics.
inline constexpr std::size_t kCaptionMaxTokens = 256;
inline constexpr std::size_t kLyricsMaxTokens = 2048;

/// The two prompt texts of one song.
struct PromptTexts {
  std::string caption;  ///< for the text encoder's full forward pass
  std::string lyrics;   ///< for the text encoder's embedding lookup only
};

/// Checks `request` and fills upstream's templates. Fails with
/// invalid_argument (field named) on an empty caption, text over the length
/// limits or not valid UTF-8, text holding "<|endoftext|>", lyrics together
/// with `instrumental`, an unknown language, key or time signature, a bpm
/// outside 30-300, or a duration outside 10 s - 10 min.
Result<PromptTexts> build_prompts(const PromptRequest& request);

/// The token ids of both texts.
struct PromptTokens {
  std::vector<std::int32_t> caption;
  std::vector<std::int32_t> lyrics;
};

/// Tokenizes both texts as upstream does: with the tokenizer's own template
/// and cut to kCaptionMaxTokens / kLyricsMaxTokens.
Result<PromptTokens> tokenize_prompts(const QwenTokenizer& tokenizer, const PromptTexts& texts);

}  // namespace ferry::acestep
