#include "config/suggest.hpp"

#include <gtest/gtest.h>

#include <array>

namespace ferry::config {
namespace {

constexpr std::array<std::string_view, 5> kKeys{"resources", "instances", "bitrate_kbps", "segment_s", "mp3"};

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("same", "same"), 0u);
  EXPECT_EQ(edit_distance("flaw", "lawn"), 2u);
}

TEST(EditDistance, IgnoresCase) { EXPECT_EQ(edit_distance("Resources", "resources"), 0u); }

TEST(ClosestMatch, SuggestsTheNearestSpelling) {
  EXPECT_EQ(closest_match("resourses", kKeys), "resources");
  EXPECT_EQ(closest_match("instance", kKeys), "instances");
  EXPECT_EQ(closest_match("mp4", kKeys), "mp3");
}

TEST(ClosestMatch, SuggestsACandidateTheWordIsAPrefixOf) {
  EXPECT_EQ(closest_match("bitrat", kKeys), "bitrate_kbps");
  EXPECT_EQ(closest_match("segment", kKeys), "segment_s");
}

TEST(ClosestMatch, SuggestsNothingForUnrelatedWords) {
  EXPECT_EQ(closest_match("banana", kKeys), std::nullopt);
  EXPECT_EQ(closest_match("ogg", kKeys), std::nullopt);
  EXPECT_EQ(closest_match("se", kKeys), std::nullopt);
}

TEST(UnknownNameMessage, SuggestsWhenCloseAndListsOtherwise) {
  EXPECT_EQ(unknown_name_message("key", "resourses", kKeys), "unknown key 'resourses' (did you mean 'resources'?)");
  EXPECT_EQ(unknown_name_message("format", "ogg", std::span(kKeys).first(2)),
            "unknown format 'ogg' (expected one of: resources, instances)");
}

}  // namespace
}  // namespace ferry::config
