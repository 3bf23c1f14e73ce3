#include "controller/progress.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace ferry::controller {
namespace {

JobLine running(double fraction, double eta) {
  JobLine line;
  line.label = "talk.wav -> mp3";
  line.state = "running";
  line.stage = "encode";
  line.fraction = fraction;
  line.eta_s = eta;
  return line;
}

TEST(ProgressFormat, EtaIsShortAndHumanReadable) {
  EXPECT_EQ(format_eta(0), "0s");
  EXPECT_EQ(format_eta(42.4), "42s");
  EXPECT_EQ(format_eta(185), "3m05s");
  EXPECT_EQ(format_eta(3720), "1h02m");
  EXPECT_EQ(format_eta(-5), "0s");
}

TEST(ProgressFormat, DecoratedLineHasBarPercentStageAndEta) {
  std::string line = format_decorated_line(running(0.5, 12), 20, 10);
  EXPECT_EQ(line, "talk.wav -> mp3      [#####-----] running encode  50% (eta 12s)");
}

TEST(ProgressFormat, LongLabelsAreCutToTheColumn) {
  JobLine line = running(0.25, 1);
  line.label = "a-very-long-input-file-name.wav -> flac";
  std::string text = format_decorated_line(line, 12, 4);
  EXPECT_EQ(text.substr(0, 13), "a-very-long~ ");
  EXPECT_NE(text.find("[#---]"), std::string::npos);
}

TEST(ProgressFormat, FinishedJobShowsFullBarAndNoEta) {
  JobLine line = running(0.9, 3);
  line.state = "succeeded";
  std::string text = format_decorated_line(line, 15, 4);
  EXPECT_EQ(text, "talk.wav -> mp3 [####] succeeded");
}

TEST(ProgressFormat, FailedJobShowsItsMessage) {
  JobLine line;
  line.label = "x.wav -> mp3";
  line.state = "failed";
  line.note = "cannot decode input";
  EXPECT_EQ(format_plain_line(line), "x.wav -> mp3: failed: cannot decode input");
}

TEST(ProgressFormat, UnknownFractionDrawsEmptyBarWithoutPercent) {
  JobLine line;
  line.label = "x";
  line.state = "queued";
  EXPECT_EQ(format_decorated_line(line, 1, 3), "x [---] queued");
}

TEST(ProgressDisplay, PlainModeLogsStateChangesAtOnceAndThrottlesProgress) {
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* stream = ::open_memstream(&buffer, &size);
  {
    ProgressDisplay display(stream, false, std::chrono::hours(1));
    auto index = display.add(running(0.1, 9));
    display.update(index, running(0.1, 9));  // same state: nothing yet
    display.render();                          // first progress line is due
    display.update(index, running(0.2, 8));
    display.render();                          // throttled: within the interval
    JobLine done = running(1, 0);
    done.state = "succeeded";
    display.update(index, done);
    display.finish();
  }
  std::fclose(stream);
  std::string text(buffer, size);
  std::free(buffer);
  EXPECT_EQ(text,
            "talk.wav -> mp3: running encode  10% (eta 9s)\n"
            "talk.wav -> mp3: succeeded\n");
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(ProgressDisplay, DecoratedModeRedrawsInPlace) {
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* stream = ::open_memstream(&buffer, &size);
  {
    ProgressDisplay display(stream, true);
    auto index = display.add(running(0.1, 9));
    display.render();
    display.update(index, running(0.6, 2));
    display.render();
  }
  std::fclose(stream);
  std::string text(buffer, size);
  std::free(buffer);
  EXPECT_NE(text.find("\x1b[1A"), std::string::npos);  // cursor back up one line
  EXPECT_NE(text.find(" 60%"), std::string::npos);
}

}  // namespace
}  // namespace ferry::controller
