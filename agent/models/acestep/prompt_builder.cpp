#include "agent/models/acestep/prompt_builder.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "agent/models/acestep/qwen_tokenizer_split.hpp"
#include "config/generate_rules.hpp"

namespace ferry::acestep {
namespace {

namespace rules = config::rules;

// Ends a section of both templates; inside user text it would end it early.
constexpr std::string_view kEndOfText = "<|endoftext|>";

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

std::size_t code_points(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

template <typename List, typename Value>
bool contains(const List& list, const Value& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

/// Checks one free-text field: valid UTF-8, within `max_code_points`, and
/// free of the token that closes its template section.
Status check_text(std::string_view text, std::string_view field, std::size_t max_code_points) {
  if (auto valid = detail::check_utf8(text); !valid) {
    return fail(ErrorCode::invalid_argument, fmt::format("{}: {}", field, valid.error().message), std::string(field));
  }
  if (const std::size_t length = code_points(text); length > max_code_points) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("{} has {} characters, over the limit of {}; shorten it (the model reads only the first "
                            "{} tokens)",
                            field, length, max_code_points, field == "lyrics" ? kLyricsMaxTokens : kCaptionMaxTokens),
                std::string(field));
  }
  if (text.find(kEndOfText) != std::string_view::npos) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("{} contains the control token {}; remove it", field, kEndOfText), std::string(field));
  }
  return {};
}

Status check_request(const PromptRequest& request) {
  if (is_blank(request.caption)) {
    return fail(ErrorCode::invalid_argument,
                "caption is empty; describe the music, like \"warm lo-fi hip hop with a soft piano\"", "caption");
  }
  if (auto status = check_text(request.caption, "caption", rules::kMaxCaptionCodePoints); !status) return status;
  if (auto status = check_text(request.lyrics, "lyrics", rules::kMaxLyricsCodePoints); !status) return status;
  if (request.instrumental && !is_blank(request.lyrics)) {
    return fail(ErrorCode::invalid_argument, "an instrumental has no lyrics; remove the lyrics or set instrumental to false",
                "lyrics");
  }
  if (!contains(rules::kGenerateLanguages, request.language)) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("language '{}' is not one the model knows; use a code such as en, zh, ja, fr, es, de, ko or "
                            "unknown (the full list: {})",
                            request.language, fmt::join(rules::kGenerateLanguages, ", ")),
                "language");
  }
  const double seconds = request.duration_s;
  if (!std::isfinite(seconds) || seconds < rules::kMinGenerateSeconds || seconds > rules::kMaxGenerateSeconds) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("duration {} s is outside what the model makes: {} s to {} s (10 minutes)", seconds,
                            rules::kMinGenerateSeconds, rules::kMaxGenerateSeconds),
                "duration");
  }
  if (request.bpm && (*request.bpm < rules::kMinGenerateBpm || *request.bpm > rules::kMaxGenerateBpm)) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("bpm {} is outside {} to {}; leave it unset to let the model choose", *request.bpm,
                            rules::kMinGenerateBpm, rules::kMaxGenerateBpm),
                "bpm");
  }
  if (!request.key.empty() && !rules::is_known_key(request.key)) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("key '{}' is not one the model knows; write a note A-G, an optional # or b, then major or "
                            "minor, like \"F# minor\"",
                            request.key),
                "key");
  }
  if (request.time_signature && !contains(rules::kGenerateTimeSignatures, *request.time_signature)) {
    return fail(ErrorCode::invalid_argument,
                fmt::format("time signature {} is not one the model knows; give the beats per bar: 2, 3, 4 or 6",
                            *request.time_signature),
                "time_signature");
  }
  return {};
}

/// The four metadata lines, "N/A" for what the user left to the model.
std::string metas_block(const PromptRequest& request) {
  const std::string not_given = "N/A";
  // Upstream writes int(duration): whole seconds, cut toward zero.
  const auto whole_seconds = static_cast<long long>(request.duration_s);
  return fmt::format("- bpm: {}\n- timesignature: {}\n- keyscale: {}\n- duration: {} seconds\n",
                     request.bpm ? std::to_string(*request.bpm) : not_given,
                     request.time_signature ? std::to_string(*request.time_signature) : not_given,
                     request.key.empty() ? not_given : request.key, whole_seconds);
}

}  // namespace

std::string_view task_instruction(GenerationTask task) {
  switch (task) {
    case GenerationTask::repaint:
      return "Repaint the mask area based on the given conditions:";
    case GenerationTask::cover:
      return "Generate audio semantic tokens based on the given conditions:";
    case GenerationTask::text2music:
      break;
  }
  return "Fill the audio semantic mask based on the given conditions:";
}

Result<PromptTexts> build_prompts(const PromptRequest& request) {
  if (auto status = check_request(request); !status) return fail(status.error());
  // Without an LM to write lyrics, a song without lyrics is an instrumental;
  // "[Instrumental]" is the lyric upstream trained that case with.
  const std::string_view lyrics = (request.instrumental || is_blank(request.lyrics))
                                      ? kInstrumentalLyric
                                      : std::string_view(request.lyrics);
  PromptTexts texts;
  texts.caption = fmt::format("# Instruction\n{}\n\n# Caption\n{}\n\n# Metas\n{}{}\n", task_instruction(request.task),
                              request.caption, metas_block(request), kEndOfText);
  texts.lyrics = fmt::format("# Languages\n{}\n\n# Lyric\n{}{}", request.language, lyrics, kEndOfText);
  return texts;
}

Result<PromptTokens> tokenize_prompts(const QwenTokenizer& tokenizer, const PromptTexts& texts) {
  PromptTokens tokens;
  auto caption = tokenizer.encode(texts.caption, {.add_special_tokens = true, .max_length = kCaptionMaxTokens});
  if (!caption) return fail(caption.error());
  auto lyrics = tokenizer.encode(texts.lyrics, {.add_special_tokens = true, .max_length = kLyricsMaxTokens});
  if (!lyrics) return fail(lyrics.error());
  tokens.caption = std::move(*caption);
  tokens.lyrics = std::move(*lyrics);
  return tokens;
}

}  // namespace ferry::acestep
