#include "core/schedule.hpp"
#include "core/model.hpp"

#include <gtest/gtest.h>

using namespace sb;

TEST(TouSchedule, ParsesSegmentsSortsThemAndFormatsBack) {
  auto s = parse_tou_schedule(
      "17:00-21:00 discharge power=2500 min-soc=20; 00:00-05:30 charge power=3000 max-soc=90;"
      " 21:00-24:00 backup");
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[0].start_minute, 0);
  EXPECT_EQ((*s)[0].end_minute, 330);
  EXPECT_EQ((*s)[0].mode, TouMode::Charge);
  EXPECT_EQ((*s)[0].power_w, 3000);
  EXPECT_EQ((*s)[0].max_soc_percent, 90);
  EXPECT_EQ((*s)[1].mode, TouMode::Discharge);
  EXPECT_EQ((*s)[1].min_soc_percent, 20);
  EXPECT_EQ((*s)[2].end_minute, 1440);
  EXPECT_EQ(format_tou_schedule(*s),
            "00:00-05:30 charge power=3000 max-soc=90; 17:00-21:00 discharge power=2500 "
            "min-soc=20; 21:00-24:00 backup");
  EXPECT_EQ(parse_tou_schedule(format_tou_schedule(*s)).value(), *s);
  auto off = parse_tou_schedule(" off ");
  ASSERT_TRUE(off);
  EXPECT_TRUE(off->empty());
  EXPECT_EQ(format_tou_schedule(*off), "off");
}

TEST(TouSchedule, EveryMistakeIsNamedWithItsSegment) {
  auto msg = [](std::string_view text) {
    auto r = parse_tou_schedule(text);
    return r ? std::string("accepted") : r.error().message;
  };
  EXPECT_EQ(msg(""), "schedule is empty; give segments (00:00-05:00 charge power=3000) or off");
  EXPECT_EQ(msg("01:00-02:00"),
            "segment 1: '01:00-02:00' needs HH:MM-HH:MM and a mode (self-use, feed-in, backup, "
            "charge, discharge)");
  EXPECT_EQ(msg("01:00-02:00 self-use; 1:00-3:00 backup"),
            "segment 2: '1:00-3:00' is not HH:MM-HH:MM (00:00..24:00)");
  EXPECT_EQ(msg("22:00-02:00 charge power=1"),
            "segment 1: 22:00-02:00 ends before it starts; split a window across midnight in two");
  EXPECT_EQ(msg("01:00-02:00 turbo"),
            "segment 1: mode 'turbo' is not one of self-use, feed-in, backup, charge, discharge");
  EXPECT_EQ(msg("01:00-02:00 charge"), "segment 1: charge needs power=W");
  EXPECT_EQ(msg("01:00-02:00 charge power=-5"), "segment 1: power must be above 0 W");
  EXPECT_EQ(msg("01:00-02:00 charge power=abc"), "segment 1: power needs a number ('power=abc')");
  EXPECT_EQ(msg("01:00-02:00 backup power=100"),
            "segment 1: power applies to charge and discharge only");
  EXPECT_EQ(msg("01:00-02:00 self-use min-soc=120"), "segment 1: min-soc 120 is outside 0..100 %");
  EXPECT_EQ(msg("01:00-02:00 self-use speed=3"),
            "segment 1: 'speed=3' is not power=W, min-soc=% or max-soc=%");
  EXPECT_EQ(msg("01:00-03:00 backup; 02:00-04:00 self-use"),
            "segments 01:00-03:00 and 02:00-04:00 overlap");
  EXPECT_EQ(msg("00:00-24:00 self-use min-soc=50 max-soc=40"),
            "segment 1: min-soc is above max-soc");
}

TEST(TimeWindows, ParseFormatAndRefuse) {
  auto w = parse_time_windows("13:30-15:00,02:00-05:00");
  ASSERT_TRUE(w);
  EXPECT_EQ(format_time_windows(*w), "02:00-05:00,13:30-15:00");
  EXPECT_TRUE(parse_time_windows("off")->empty());
  EXPECT_EQ(parse_time_windows("02:00-05:00,04:00-06:00").error().message,
            "windows 02:00-05:00 and 04:00-06:00 overlap");
  EXPECT_EQ(parse_time_windows("02:00-25:00").error().message,
            "window 1: '02:00-25:00' is not HH:MM-HH:MM (00:00..24:00)");
}

TEST(PeakShaving, ParseFormatAndRefuse) {
  auto p = parse_peak_shaving("soc=30 limit=4500");
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->has_value());
  EXPECT_EQ((*p)->import_limit_w, 4500);
  EXPECT_EQ((*p)->min_soc_percent, 30);
  EXPECT_EQ(format_peak_shaving(*p), "limit=4500 soc=30");
  EXPECT_FALSE(parse_peak_shaving("off")->has_value());
  EXPECT_EQ(parse_peak_shaving("limit=4500").error().message,
            "peak shaving needs limit=W (grid import) and soc=% (battery floor), or off");
  EXPECT_EQ(parse_peak_shaving("limit=4500 soc=130").error().message,
            "peak shaving: soc 130 is outside 0..100 %");
  EXPECT_EQ(parse_peak_shaving("4500").error().message,
            "peak shaving: '4500' is not limit=W or soc=% (or say off)");
}

TEST(LoadControl, ParsesAContactsSettingAndNamesWhatIsWrong) {
  auto s = parse_load_control("NC1 mode=Scheduled start=09:00 end=16:30");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->contact, "NC1");
  EXPECT_EQ(s->mode, "Scheduled");
  EXPECT_EQ(s->start_s, 32'400);
  EXPECT_EQ(s->end_s, 59'400);
  EXPECT_FALSE(s->soc_low);
  auto a = parse_load_control("NC2 mode=Advanced_BatteryPowered soc_low=40");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->soc_low, 40);
  EXPECT_EQ(parse_load_control("NC2 mode=Advanced_BatteryPowered").error().message,
            "load-control: mode Advanced_BatteryPowered needs soc_low");
  EXPECT_EQ(parse_load_control("NC1 mode=basic").error().message.substr(0, 40),
            "load-control: mode 'basic' is not one of");
  EXPECT_EQ(parse_load_control("NC1 soc_low=95").error().message,
            "load-control: soc_low '95' is not a whole number from 10 to 90");
  EXPECT_EQ(parse_load_control("NC1 start=9:00").error().message,
            "load-control: start '9:00' is not HH:MM");
  EXPECT_EQ(parse_load_control("NC1").error().message,
            "load-control: nothing to set for NC1 (mode=, soc_low=, start=, end=)");
  EXPECT_EQ(parse_load_control("NC1 colour=red").error().message,
            "load-control: unknown key 'colour' (mode, soc_low, start, end)");
  EXPECT_FALSE(parse_load_control(""));
}
