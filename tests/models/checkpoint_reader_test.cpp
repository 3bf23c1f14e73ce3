// The checkpoint readers: official-format Demucs files, plain state dicts,
// safetensors, and everything they must refuse.

#include <cstring>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/models/checkpoint_contents.hpp"
#include "agent/models/demucs_config.hpp"
#include "crafted_files.hpp"

namespace ferry::models {
namespace {

using testing::make_safetensors;
using testing::make_torch_zip;
using testing::make_zip;
using testing::PickleWriter;

const std::filesystem::path kDemucsFixtures = std::filesystem::path(FERRY_FIXTURES_DIR) / "demucs";

std::shared_ptr<const std::string> shared(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

std::string float_bytes(const std::vector<float>& values) {
  std::string out(values.size() * 4, '\0');
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

// {"klass": demucs.htdemucs.HTDemucs, "args": (), "kwargs": {...}, "state": {"w": tensor 2x3}}
std::string small_package(const std::string& storage_class = "FloatStorage") {
  PickleWriter p;
  p.empty_dict().mark();
  p.string("klass").global("demucs.htdemucs", "HTDemucs");
  p.string("args").empty_tuple();
  p.string("kwargs").empty_dict().mark();
  p.string("sources").op(']').mark().string("drums").string("bass").op('e');
  p.string("segment").global("fractions", "Fraction").integer(39).integer(5).op('\x86').reduce();
  p.string("t_layers").integer(3);
  p.setitems();
  p.string("state").empty_dict().mark();
  p.string("w").tensor("0", storage_class, 6, {2, 3}, {3, 1});
  p.setitems();
  p.setitems();
  return p.finish();
}

TEST(CheckpointReader, ReadsEveryDemucsFixtureWithItsTensorsAndArguments) {
  if (!std::filesystem::exists(kDemucsFixtures)) GTEST_SKIP() << "fixtures not found at " << kDemucsFixtures;
  int files = 0;
  for (const auto& folder : std::filesystem::directory_iterator(kDemucsFixtures)) {
    if (!folder.is_directory()) continue;
    std::ifstream json_in(folder.path() / "fixture.json");
    const auto fixture = nlohmann::json::parse(json_in);
    for (const auto& file : std::filesystem::directory_iterator(folder.path())) {
      if (file.path().extension() != ".th") continue;
      SCOPED_TRACE(file.path().string());
      auto contents = read_checkpoint(file.path());
      ASSERT_TRUE(contents) << contents.error().describe();
      ++files;
      ASSERT_TRUE(contents->klass);
      EXPECT_TRUE(*contents->klass == "demucs.htdemucs.HTDemucs" || *contents->klass == "demucs.hdemucs.HDemucs");
      std::int64_t numel = 0;
      for (const auto& tensor : contents->tensors) {
        EXPECT_EQ(tensor.data.layout.type, ElementType::f16) << tensor.name;
        numel += tensor.data.layout.numel();
      }
      auto config = parse_demucs_config(*contents->klass, contents->args, contents->kwargs);
      ASSERT_TRUE(config) << config.error().describe();
      if (fixture.contains("params")) {
        EXPECT_EQ(numel, fixture["params"].get<std::int64_t>());
        const auto& kwargs = fixture["kwargs"];
        EXPECT_EQ(config->sources, kwargs["sources"].get<std::vector<std::string>>());
        EXPECT_EQ(config->depth, kwargs["depth"].get<int>());
        EXPECT_EQ(config->channels, kwargs["channels"].get<int>());
        const auto segment = kwargs["segment"].get<std::string>();
        const auto slash = segment.find('/');
        EXPECT_EQ(config->segment.numerator, std::stoll(segment.substr(0, slash)));
        EXPECT_EQ(config->segment.denominator, slash == std::string::npos ? 1 : std::stoll(segment.substr(slash + 1)));
        EXPECT_EQ(config->segment_samples(), fixture["forward_one_segment"]["segment_samples"].get<std::int64_t>());
        if (kwargs.contains("bottom_channels")) {
          EXPECT_EQ(config->bottom_channels, kwargs["bottom_channels"].get<int>());
          EXPECT_EQ(config->transformer.layers, kwargs["t_layers"].get<int>());
        }
      }
    }
  }
  EXPECT_EQ(files, 5);
}

TEST(CheckpointReader, ReadsACraftedPackageWithTensorBytesAndKwargs) {
  const std::vector<float> values{1, 2, 3, 4, 5, 6};
  auto contents = parse_checkpoint(shared(make_torch_zip(small_package(), {{"0", float_bytes(values)}})));
  ASSERT_TRUE(contents) << contents.error().describe();
  EXPECT_EQ(*contents->klass, "demucs.htdemucs.HTDemucs");
  ASSERT_EQ(contents->tensors.size(), 1u);
  const auto& w = contents->tensors[0];
  EXPECT_EQ(w.name, "w");
  EXPECT_EQ(w.data.layout.sizes, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(w.data.storage, float_bytes(values));
  auto config = parse_demucs_config(*contents->klass, contents->args, contents->kwargs);
  ASSERT_TRUE(config) << config.error().describe();
  EXPECT_EQ(config->sources, (std::vector<std::string>{"drums", "bass"}));
  EXPECT_EQ(config->transformer.layers, 3);
  EXPECT_EQ(config->segment_samples(), 343980);
}

TEST(CheckpointReader, ReadsAPlainStateDictLikeTorchaudios) {
  PickleWriter p;
  p.global("collections", "OrderedDict").empty_tuple().reduce().put(0).mark();
  p.string("a").tensor("0", "FloatStorage", 4, {4}, {1});
  p.string("b").tensor("1", "HalfStorage", 2, {2}, {1});
  p.setitems();
  // The `_metadata` attribute, set by BUILD; it is dropped.
  p.empty_dict().mark().string("_metadata").empty_dict().setitems().op('b');
  auto contents = parse_checkpoint(shared(make_torch_zip(p.finish(), {{"0", float_bytes({1, 2, 3, 4})}, {"1", "abcd"}})));
  ASSERT_TRUE(contents) << contents.error().describe();
  EXPECT_FALSE(contents->klass);
  ASSERT_EQ(contents->tensors.size(), 2u);
  EXPECT_EQ(contents->tensors[1].data.layout.type, ElementType::f16);
}

void expect_refusal(const std::string& pickle, const std::string& needle) {
  auto contents = parse_checkpoint(shared(make_torch_zip(pickle, {})));
  ASSERT_FALSE(contents) << "accepted a pickle that should be refused (" << needle << ")";
  EXPECT_NE(contents.error().message.find(needle), std::string::npos) << contents.error().message;
}

TEST(CheckpointReader, RefusesToCallOsSystem) {
  PickleWriter p;
  p.global("os", "system").mark().string("touch /tmp/pwned").tuple().reduce();
  expect_refusal(p.finish(), "refusing to call os.system");
}

TEST(CheckpointReader, RefusesToCallBuiltinsEval) {
  PickleWriter p;
  p.empty_dict().mark().string("klass").global("builtins", "eval").mark().string("1+1").tuple().reduce().setitems();
  expect_refusal(p.finish(), "refusing to call builtins.eval");
}

TEST(CheckpointReader, RefusesObjectBuildingOpcodes) {
  expect_refusal(PickleWriter().raw("iposix\nsystem\n").finish(), "INST");
  expect_refusal(PickleWriter().mark().global("os", "system").string("ls").op('o').finish(), "OBJ");
  expect_refusal(PickleWriter().global("os", "system").empty_tuple().op('\x81').finish(), "NEWOBJ");
}

TEST(CheckpointReader, RefusesBuildOnAClassReference) {
  expect_refusal(PickleWriter().global("os", "system").empty_dict().op('b').finish(), "refusing BUILD");
}

TEST(CheckpointReader, RefusesUnknownStorageTypesAndPersistentIds) {
  PickleWriter p;
  p.mark().string("storage").global("os", "system").string("0").string("cpu").integer(1).tuple().op('Q');
  expect_refusal(p.finish(), "unsupported storage type os.system");
}

TEST(CheckpointReader, RefusesSelfContainingAndDeeplyNestedValues) {
  // A list appended into itself.
  expect_refusal(PickleWriter().op(']').put(0).get(0).op('a').finish(), "contains itself");
  // 100 nested lists.
  PickleWriter deep;
  for (int i = 0; i < 100; ++i) deep.mark();
  for (int i = 0; i < 100; ++i) deep.op('l');
  expect_refusal(deep.finish(), "nesting deeper");
  // Exponential sharing through the memo ("billion laughs").
  PickleWriter laughs;
  laughs.string("x").put(0);
  for (int i = 1; i < 40; ++i) laughs.get(static_cast<std::uint8_t>(i - 1)).get(static_cast<std::uint8_t>(i - 1)).op('\x86').put(static_cast<std::uint8_t>(i));
  expect_refusal(laughs.finish(), "more than");
}

TEST(CheckpointReader, RefusesOversizedDeclaredSizes) {
  // A string claiming 4 GiB.
  expect_refusal(PickleWriter().raw(std::string("X\xff\xff\xff\xff", 5)).finish(), "string");
  // A tensor reaching past its storage.
  PickleWriter p;
  p.empty_dict().mark().string("w").tensor("0", "FloatStorage", 4, {1000, 1000}, {1000, 1}).setitems();
  expect_refusal(p.finish(), "invalid layout");
  // A storage declaring more elements than its bytes hold.
  PickleWriter q;
  q.empty_dict().mark().string("w").tensor("0", "FloatStorage", 1 << 30, {4}, {1}).setitems();
  auto contents = parse_checkpoint(shared(make_torch_zip(q.finish(), {{"0", float_bytes({1, 2, 3, 4})}})));
  ASSERT_FALSE(contents);
  EXPECT_NE(contents.error().message.find("declares"), std::string::npos) << contents.error().message;
  // A ZIP entry whose size runs past the end of the file.
  std::string zip = make_torch_zip(small_package(), {{"0", float_bytes({1, 2, 3, 4, 5, 6})}});
  const auto central = zip.find("PK\x01\x02");
  zip[central + 24] = '\xff';
  zip[central + 25] = '\xff';
  zip[central + 20] = '\xff';
  zip[central + 21] = '\xff';
  EXPECT_FALSE(parse_checkpoint(shared(zip)));
}

TEST(CheckpointReader, RefusesCompressedEntriesAndLegacyFiles) {
  auto compressed = parse_checkpoint(shared(make_zip({{"archive/data.pkl", small_package()}}, 8)));
  ASSERT_FALSE(compressed);
  EXPECT_NE(compressed.error().message.find("compressed"), std::string::npos);
  auto legacy = parse_checkpoint(shared(std::string("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8", 12)));
  ASSERT_FALSE(legacy);
  EXPECT_NE(legacy.error().message.find("legacy"), std::string::npos);
  EXPECT_FALSE(parse_checkpoint(shared("hello, world")));
  EXPECT_FALSE(parse_checkpoint(shared("")));
}

TEST(CheckpointReader, FailsCleanlyOnEveryTruncation) {
  const std::string file = make_torch_zip(small_package(), {{"0", float_bytes({1, 2, 3, 4, 5, 6})}});
  for (std::size_t cut = 0; cut < file.size(); ++cut) {
    EXPECT_FALSE(parse_checkpoint(shared(file.substr(0, cut)))) << "accepted a file cut at " << cut;
  }
  // And the pickle alone, cut anywhere, inside an intact archive.
  const std::string pickle = small_package();
  for (std::size_t cut = 0; cut < pickle.size(); ++cut) {
    EXPECT_FALSE(parse_checkpoint(shared(make_torch_zip(pickle.substr(0, cut), {})))) << "pickle cut at " << cut;
  }
}

TEST(CheckpointReader, SurvivesFlippedBytes) {
  const std::string file = make_torch_zip(small_package(), {{"0", float_bytes({1, 2, 3, 4, 5, 6})}});
  int refused = 0;
  for (std::size_t i = 0; i < file.size(); ++i) {
    for (unsigned char flip : {0x01, 0x80, 0xff}) {
      std::string broken = file;
      broken[i] = static_cast<char>(broken[i] ^ flip);
      if (!parse_checkpoint(shared(broken))) ++refused;
    }
  }
  // Most flips are caught (CRC, signatures, bounds); the rest must merely not crash.
  EXPECT_GT(refused, static_cast<int>(file.size()));
  // With the CRC recomputed, damage inside the pickle reaches the pickle reader.
  const std::string pickle = small_package();
  for (std::size_t i = 2; i < pickle.size(); ++i) {
    std::string broken = pickle;
    broken[i] = static_cast<char>(broken[i] ^ 0x5a);
    (void)parse_checkpoint(shared(make_torch_zip(broken, {{"0", float_bytes({1, 2, 3, 4, 5, 6})}})));
  }
}

TEST(CheckpointReader, ReportsACorruptedStorageByItsCrc) {
  std::string file = make_torch_zip(small_package(), {{"0", float_bytes({1, 2, 3, 4, 5, 6})}});
  const auto pos = file.find(float_bytes({1, 2, 3, 4, 5, 6}));
  file[pos + 1] ^= 0x10;
  auto contents = parse_checkpoint(shared(file));
  ASSERT_FALSE(contents);
  EXPECT_NE(contents.error().message.find("CRC"), std::string::npos) << contents.error().message;
}

TEST(Safetensors, ReadsHalfBfloatAndFloatTensors) {
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
      R"("b":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},"c":{"dtype":"BF16","shape":[],"data_offsets":[22,24]}})";
  const std::string file = make_safetensors(header, float_bytes({1, 2, 3, 4}) + std::string(8, '\0'));
  auto contents = parse_checkpoint(shared(file));
  ASSERT_TRUE(contents) << contents.error().describe();
  EXPECT_EQ(contents->format, CheckpointFormat::safetensors);
  ASSERT_EQ(contents->tensors.size(), 3u);
  EXPECT_EQ(contents->tensors[0].name, "a");
  EXPECT_EQ(contents->tensors[0].data.storage, float_bytes({1, 2, 3, 4}));
  EXPECT_EQ(contents->tensors[1].data.layout.type, ElementType::f16);
  EXPECT_EQ(contents->tensors[2].data.layout.numel(), 1);
}

TEST(Safetensors, RefusesBadOffsetsShapesAndHeaders) {
  const std::string data(16, '\0');
  auto refuses = [&](const std::string& header) {
    auto parsed = parse_safetensors(make_safetensors(header, data));
    EXPECT_FALSE(parsed) << header;
  };
  refuses(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,32]}})");   // past the end
  refuses(R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,16]}})");   // shape disagrees
  refuses(R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[8,4]}})");    // reversed
  refuses(R"({"a":{"dtype":"C64","shape":[2],"data_offsets":[0,16]}})");     // unknown dtype
  refuses(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,16]}})");
  refuses(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}})");
  refuses(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})");
  refuses(R"(["not an object"])");
  refuses(R"({"a":)");
  std::string huge;
  testing::put_le(huge, 1ull << 40, 8);
  EXPECT_FALSE(parse_safetensors(huge + "{}"));
}

TEST(Safetensors, NamesBothEntriesOfAnOverlapAndAcceptsEmptyTensorsAnywhere) {
  const std::string data(16, '\0');
  auto overlap = parse_safetensors(make_safetensors(
      R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
      data));
  ASSERT_FALSE(overlap);
  EXPECT_NE(overlap.error().message.find("'a' and 'b' overlap"), std::string::npos) << overlap.error().message;
  // A zero-element tensor addresses no bytes, so it shares none.
  auto empty = parse_safetensors(make_safetensors(
      R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}})",
      data));
  EXPECT_TRUE(empty) << empty.error().describe();
}

TEST(Safetensors, ListsTensorsInTheOrderOfTheirBytes) {
  // The JSON header is an object, whose keys carry no order; the data does.
  const std::string header =
      R"({"z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"m":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})";
  auto parsed = parse_safetensors(make_safetensors(header, float_bytes({1, 2, 3, 4})));
  ASSERT_TRUE(parsed) << parsed.error().describe();
  ASSERT_EQ(parsed->size(), 3u);
  EXPECT_EQ((*parsed)[0].name, "z");
  EXPECT_EQ((*parsed)[1].name, "m");
  EXPECT_EQ((*parsed)[2].name, "a");
  EXPECT_EQ((*parsed)[2].data.storage, float_bytes({3, 4}));
}

TEST(DemucsConfig, RefusesUnimplementedOptionsByName) {
  auto base = parse_checkpoint(shared(make_torch_zip(small_package(), {{"0", float_bytes({1, 2, 3, 4, 5, 6})}})));
  ASSERT_TRUE(base);
  auto kwargs = base->kwargs;
  kwargs["t_sparse_self_attn"] = std::make_shared<Value>(Value::Data(true));
  auto sparse = parse_demucs_config(*base->klass, base->args, kwargs);
  ASSERT_FALSE(sparse);
  EXPECT_NE(sparse.error().message.find("sparse attention"), std::string::npos);
  auto unknown_class = parse_demucs_config("demucs.demucs.Demucs", base->args, base->kwargs);
  ASSERT_FALSE(unknown_class);
  EXPECT_EQ(unknown_class.error().code, ErrorCode::unsupported);
  kwargs = base->kwargs;
  kwargs["depth"] = std::make_shared<Value>(Value::Data(std::string("four")));
  auto wrong_type = parse_demucs_config(*base->klass, base->args, kwargs);
  ASSERT_FALSE(wrong_type);
  EXPECT_EQ(wrong_type.error().field, "depth");
}

}  // namespace
}  // namespace ferry::models
