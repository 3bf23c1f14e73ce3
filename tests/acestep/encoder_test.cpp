// The Qwen3 text encoder against the fixtures (full last hidden state of the
// caption, embedding lookup of the lyrics), its batching and causality, and
// the errors of bad checkpoint folders.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "agent/models/acestep/qwen3_encoder.hpp"
#include "tests/acestep/fixtures.hpp"
#include "tests/acestep/weights_test_support.hpp"
#include "tests/support/files.hpp"

namespace ferry::acestep {
namespace {

using testing::acestep_fixture;
using testing::read_f32;
using testing::read_fixture_json;
using testing::relative_error;

constexpr std::int64_t kEndOfText = 151643;  // <|endoftext|>, also the pad id

std::filesystem::path tiny_text_encoder() { return acestep_fixture("checkpoint_tiny") / "Qwen3-Embedding-0.6B"; }

at::Tensor token_ids(const std::string& name) {
  const auto ids = read_fixture_json("text_encoder")["tokens"][name]["ids"].get<std::vector<std::int64_t>>();
  return at::tensor(ids, at::kLong).unsqueeze(0);
}

at::Tensor expected_output(const std::string& name) {
  const auto output = read_fixture_json("text_encoder")["outputs"][name];
  return read_f32(acestep_fixture("text_encoder") / output["file"].get<std::string>(),
                  output["shape"].get<std::vector<std::int64_t>>());
}

class TinyTextEncoder : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = Qwen3Encoder::load(tiny_text_encoder());
    ASSERT_TRUE(loaded) << loaded.error().describe();
    encoder_ = loaded->release();
  }
  static void TearDownTestSuite() {
    delete encoder_;
    encoder_ = nullptr;
  }
  static Qwen3Encoder* encoder_;
};
Qwen3Encoder* TinyTextEncoder::encoder_ = nullptr;

TEST_F(TinyTextEncoder, ReadsItsShapeFromConfigJson) {
  const Qwen3Config& c = encoder_->config();
  EXPECT_EQ(c.vocab_size, 151669);
  EXPECT_EQ(c.hidden_size, 32);
  EXPECT_EQ(c.num_hidden_layers, 2);
  EXPECT_EQ(c.num_attention_heads, 4);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
  EXPECT_EQ(encoder_->dtype(), at::kFloat);
}

TEST_F(TinyTextEncoder, CaptionLastHiddenStateMatchesReference) {
  auto hidden = encoder_->forward(token_ids("caption"));
  ASSERT_TRUE(hidden) << hidden.error().describe();
  const at::Tensor expected = expected_output("caption_last_hidden_state");
  ASSERT_EQ(hidden->sizes(), expected.sizes());
  const double error = relative_error(*hidden, expected);
  RecordProperty("relative_error", std::to_string(error));
  std::printf("caption last hidden state: relative error %.3g\n", error);
  EXPECT_LE(error, 1e-4);
}

TEST_F(TinyTextEncoder, LyricsEmbeddingsMatchReference) {
  auto embedded = encoder_->embed(token_ids("lyrics"));
  ASSERT_TRUE(embedded) << embedded.error().describe();
  const at::Tensor expected = expected_output("lyrics_embeddings");
  ASSERT_EQ(embedded->sizes(), expected.sizes());
  const double error = relative_error(*embedded, expected);
  std::printf("lyrics embeddings: relative error %.3g\n", error);
  EXPECT_LE(error, 1e-4);
}

TEST_F(TinyTextEncoder, RightPaddingInABatchLeavesRealTokensUnchanged) {
  const at::Tensor caption = token_ids("caption");
  const at::Tensor lyrics = token_ids("lyrics");
  const std::int64_t real = lyrics.size(1);
  const at::Tensor padded = at::constant_pad_nd(lyrics, {0, caption.size(1) - real}, kEndOfText);
  auto batch = encoder_->forward(at::cat({caption, padded}, 0));
  auto alone = encoder_->forward(lyrics);
  ASSERT_TRUE(batch && alone);
  ASSERT_EQ(batch->size(0), 2);
  EXPECT_LE(relative_error(batch->select(0, 1).slice(0, 0, real), alone->select(0, 0)), 1e-5);
  EXPECT_LE(relative_error(batch->select(0, 0), expected_output("caption_last_hidden_state").select(0, 0)), 1e-4);
}

TEST_F(TinyTextEncoder, AttentionIsCausal) {
  const at::Tensor ids = token_ids("instrumental");
  at::Tensor changed = ids.clone();
  changed.index_put_({0, ids.size(1) - 1}, 42);
  auto original = encoder_->forward(ids);
  auto altered = encoder_->forward(changed);
  ASSERT_TRUE(original && altered);
  const std::int64_t last = ids.size(1) - 1;
  EXPECT_TRUE(at::equal(original->slice(1, 0, last), altered->slice(1, 0, last)));
  EXPECT_GT((original->select(1, last) - altered->select(1, last)).abs().max().item<double>(), 1e-3);
}

TEST_F(TinyTextEncoder, RefusesTokenIdsOutsideTheVocabulary) {
  for (std::int64_t id : {std::int64_t{-1}, std::int64_t{151669}}) {
    auto result = encoder_->forward(at::tensor({id}, at::kLong).unsqueeze(0));
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(result.error().message.find("vocabulary"), std::string::npos) << result.error().message;
  }
}

TEST_F(TinyTextEncoder, RefusesMalformedTokenTensors) {
  EXPECT_FALSE(encoder_->forward(at::zeros({3}, at::kLong)));
  EXPECT_FALSE(encoder_->forward(at::zeros({1, 0}, at::kLong)));
  EXPECT_FALSE(encoder_->embed(at::zeros({1, 3}, at::kFloat)));
  EXPECT_FALSE(encoder_->forward(at::Tensor()));
}

TEST(Qwen3EncoderLoad, RefusesFloat16) {
  auto result = Qwen3Encoder::load(tiny_text_encoder(), models::LoadOptions{c10::Device(c10::kCPU), at::kHalf});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::unsupported);
  EXPECT_NE(result.error().message.find("bfloat16"), std::string::npos);
}

TEST(Qwen3EncoderLoad, MissingFolderIsNotFound) {
  test::TempDir dir("ferry-qwen3");
  auto result = Qwen3Encoder::load(dir / "no-such-folder");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::not_found);
  EXPECT_NE(result.error().message.find("no-such-folder"), std::string::npos);
}

/// A small random Qwen3 folder written from the builder's own requests.
class RandomQwen3Folder : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.vocab_size = 50;
    config_.hidden_size = 16;
    config_.intermediate_size = 24;
    config_.num_hidden_layers = 2;
    config_.num_attention_heads = 4;
    config_.num_key_value_heads = 1;
    config_.head_dim = 6;
    auto built = Qwen3Encoder::create(config_, recording_.table);
    ASSERT_TRUE(built) << built.error().describe();
    weights_ = recording_.recorded;
  }
  std::string config_json(std::int64_t hidden = 16) const {
    return nlohmann::json{{"vocab_size", 50},          {"hidden_size", hidden},    {"intermediate_size", 24},
                          {"num_hidden_layers", 2},    {"num_attention_heads", 4}, {"num_key_value_heads", 1},
                          {"head_dim", 6},             {"rope_theta", 1e6},        {"rms_norm_eps", 1e-6},
                          {"hidden_act", "silu"},      {"attention_bias", false}}
        .dump();
  }
  /// Writes config.json and model.safetensors; returns the folder.
  std::filesystem::path write(const models::StateDict& weights, const std::string& config) {
    const auto folder = dir_.path() / "Qwen3-Embedding-0.6B";
    std::filesystem::create_directories(folder);
    test::write_text(folder / "config.json", config);
    testing::write_safetensors(folder / kQwen3WeightsFile, weights);
    return folder;
  }
  Error load_error(const std::filesystem::path& folder) {
    auto result = Qwen3Encoder::load(folder);
    EXPECT_FALSE(result);
    return result ? Error{} : result.error();
  }

  test::TempDir dir_{"ferry-qwen3"};
  Qwen3Config config_;
  testing::RecordingTable recording_{7};
  models::StateDict weights_;
};

TEST_F(RandomQwen3Folder, LoadsAndRunsWhatItWrote) {
  auto encoder = Qwen3Encoder::load(write(weights_, config_json()));
  ASSERT_TRUE(encoder) << encoder.error().describe();
  auto hidden = (*encoder)->forward(at::arange(10, at::kLong).view({2, 5}));
  ASSERT_TRUE(hidden) << hidden.error().describe();
  EXPECT_EQ(hidden->sizes(), (std::vector<std::int64_t>{2, 5, 16}));
  EXPECT_TRUE(at::isfinite(*hidden).all().item<bool>());
}

TEST_F(RandomQwen3Folder, MissingTensorIsNamedWithItsFile) {
  weights_.erase("layers.1.self_attn.k_norm.weight");
  const Error error = load_error(write(weights_, config_json()));
  EXPECT_EQ(error.code, ErrorCode::invalid_argument);
  EXPECT_NE(error.message.find("layers.1.self_attn.k_norm.weight"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("model.safetensors"), std::string::npos) << error.message;
}

TEST_F(RandomQwen3Folder, ExtraTensorIsNamed) {
  weights_["layers.2.mlp.up_proj.weight"] = at::zeros({24, 16});
  const Error error = load_error(write(weights_, config_json()));
  EXPECT_EQ(error.code, ErrorCode::invalid_argument);
  EXPECT_NE(error.message.find("layers.2.mlp.up_proj.weight"), std::string::npos) << error.message;
}

TEST_F(RandomQwen3Folder, MisShapedTensorIsNamedWithBothShapes) {
  weights_["layers.0.mlp.down_proj.weight"] = at::zeros({16, 23});
  const Error error = load_error(write(weights_, config_json()));
  EXPECT_EQ(error.code, ErrorCode::invalid_argument);
  EXPECT_NE(error.message.find("layers.0.mlp.down_proj.weight"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("[16, 23]"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("[16, 24]"), std::string::npos) << error.message;
}

TEST_F(RandomQwen3Folder, ConfigThatDoesNotMatchTheWeightsIsReported) {
  const Error error = load_error(write(weights_, config_json(/*hidden=*/32)));
  EXPECT_EQ(error.code, ErrorCode::invalid_argument);
  EXPECT_NE(error.message.find("embed_tokens.weight"), std::string::npos) << error.message;
}

TEST_F(RandomQwen3Folder, AcceptsTheCausalLmLayoutUnderModelPrefix) {
  models::StateDict prefixed;
  for (const auto& [name, tensor] : weights_) prefixed["model." + name] = tensor;
  prefixed["lm_head.weight"] = at::zeros({50, 16});
  auto encoder = Qwen3Encoder::load(write(prefixed, config_json()));
  ASSERT_TRUE(encoder) << encoder.error().describe();
}

TEST_F(RandomQwen3Folder, MissingConfigJsonIsNotFound) {
  const auto folder = write(weights_, config_json());
  std::filesystem::remove(folder / "config.json");
  const Error error = load_error(folder);
  EXPECT_EQ(error.code, ErrorCode::not_found);
  EXPECT_NE(error.message.find("config.json"), std::string::npos) << error.message;
}

TEST_F(RandomQwen3Folder, MissingWeightsFileIsNotFound) {
  const auto folder = write(weights_, config_json());
  std::filesystem::remove(folder / kQwen3WeightsFile);
  const Error error = load_error(folder);
  EXPECT_EQ(error.code, ErrorCode::not_found);
  EXPECT_NE(error.message.find("model.safetensors"), std::string::npos) << error.message;
}

TEST_F(RandomQwen3Folder, TruncatedWeightsFileIsReportedWithItsPath) {
  const auto folder = write(weights_, config_json());
  std::filesystem::resize_file(folder / kQwen3WeightsFile, 100);
  const Error error = load_error(folder);
  EXPECT_NE(error.message.find("model.safetensors"), std::string::npos) << error.message;
}

TEST(Qwen3Config, RequiresEveryShapeKeyAndNamesIt) {
  auto config = ModelConfig::parse(R"({"vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
                                       "num_attention_heads": 2})",
                                   "test config");
  ASSERT_TRUE(config);
  auto parsed = parse_qwen3_config(*config);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().field, "num_hidden_layers");
  EXPECT_NE(parsed.error().message.find("test config"), std::string::npos);
}

TEST(Qwen3Config, RefusesHeadsThatDoNotGroup) {
  auto config = ModelConfig::parse(R"({"vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
                                       "num_hidden_layers": 1, "num_attention_heads": 3,
                                       "num_key_value_heads": 2, "head_dim": 4})",
                                   "test config");
  ASSERT_TRUE(config);
  auto parsed = parse_qwen3_config(*config);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().field, "num_key_value_heads");
}

TEST(Qwen3Config, DefaultsFollowTransformers) {
  auto config = ModelConfig::parse(R"({"vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
                                       "num_hidden_layers": 1, "num_attention_heads": 2})",
                                   "test config");
  ASSERT_TRUE(config);
  auto parsed = parse_qwen3_config(*config);
  ASSERT_TRUE(parsed) << parsed.error().describe();
  EXPECT_EQ(parsed->num_key_value_heads, 2);
  EXPECT_EQ(parsed->head_dim, 4);
}

TEST(Qwen3Config, RefusesFeaturesItDoesNotImplement) {
  const std::string base = R"("vocab_size": 10, "hidden_size": 8, "intermediate_size": 16,
                              "num_hidden_layers": 1, "num_attention_heads": 2)";
  for (const std::string& extra :
       {std::string(R"("attention_bias": true)"), std::string(R"("hidden_act": "gelu")"),
        std::string(R"("use_sliding_window": true)"), std::string(R"("rope_scaling": {"type": "yarn"})")}) {
    auto config = ModelConfig::parse("{" + base + ", " + extra + "}", "test config");
    ASSERT_TRUE(config);
    auto parsed = parse_qwen3_config(*config);
    ASSERT_FALSE(parsed) << extra;
    EXPECT_EQ(parsed.error().code, ErrorCode::unsupported);
  }
}

TEST(ModelConfig, MalformedJsonIsAnErrorNamingTheSource) {
  auto config = ModelConfig::parse("{\"hidden_size\": ", "some/config.json");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(config.error().message.find("some/config.json"), std::string::npos);
}

TEST(ModelConfig, WrongKindOfValueIsNamed) {
  auto config = ModelConfig::parse(R"({"hidden_size": "large"})", "c.json");
  ASSERT_TRUE(config);
  auto value = config->integer("hidden_size");
  ASSERT_FALSE(value);
  EXPECT_NE(value.error().message.find("\"large\""), std::string::npos) << value.error().message;
  EXPECT_EQ(value.error().field, "hidden_size");
}

}  // namespace
}  // namespace ferry::acestep
