#include "core/name.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <thread>
#include <unordered_set>
#include <vector>

using namespace sb;

TEST(Name, OneStoredCopyPerText) {
  std::string a = "name-test.battery.power";
  std::string b = a;  // a different buffer, the same text
  Name x(a), y(b), z(std::string_view("name-test.battery.power"));
  EXPECT_EQ(x, y);
  EXPECT_EQ(x.key(), y.key());
  EXPECT_EQ(x.key(), z.key());
  EXPECT_EQ(&x.str(), &y.str());
  // The name keeps its own copy: the caller's buffer can change.
  a = "something else entirely";
  EXPECT_EQ(x.str(), "name-test.battery.power");
  EXPECT_NE(Name("name-test.battery.soc"), x);
}

TEST(Name, TheEmptyNameIsTheDefault) {
  Name e;
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(e.size(), 0u);
  EXPECT_EQ(e.str(), "");
  EXPECT_EQ(Name(""), e);
  EXPECT_EQ(Name(std::string()), e);
  EXPECT_FALSE(Name("x").empty());
}

TEST(Name, ComparesWithTextAndSortsByText) {
  Name n("name-test.pv.power");
  EXPECT_TRUE(n == "name-test.pv.power");
  EXPECT_TRUE(n == std::string("name-test.pv.power"));
  EXPECT_TRUE(n == std::string_view("name-test.pv.power"));
  EXPECT_FALSE(n == "name-test.pv");
  EXPECT_TRUE(n.starts_with("name-test.pv"));
  // Interned in the reverse order of their text: the order is still by text.
  std::vector<Name> v{Name("name-test.z"), Name("name-test.b"), Name("name-test.a")};
  std::sort(v.begin(), v.end());
  EXPECT_EQ(v[0], "name-test.a");
  EXPECT_EQ(v[1], "name-test.b");
  EXPECT_EQ(v[2], "name-test.z");
  std::map<std::string, int> by_string;
  by_string[Name("name-test.k")] = 3;  // a name is a std::string where one is wanted
  EXPECT_EQ(by_string.at("name-test.k"), 3);
}

TEST(Name, JoinsAndPrintsAsItsText) {
  Name dev("inv1:serial"), metric("pv.power");
  EXPECT_EQ(dev + '/' + metric, "inv1:serial/pv.power");
  EXPECT_EQ("device " + dev, "device inv1:serial");
  EXPECT_EQ(std::string("a ") + metric, "a pv.power");
  std::ostringstream os;
  os << metric;
  EXPECT_EQ(os.str(), "pv.power");
}

TEST(Name, ThreadsInterningTheSameTextsGetTheSameNames) {
  const auto before = interned_names();
  constexpr int kTexts = 2000;
  std::vector<std::vector<std::size_t>> keys(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      // Each thread in its own order, so that first-time interning races.
      for (int i = 0; i < kTexts; ++i) {
        int k = (t % 2) ? kTexts - 1 - i : i;
        keys[t].push_back(Name("name-test.thread." + std::to_string(k)).key());
      }
      if (t % 2) std::reverse(keys[t].begin(), keys[t].end());
    });
  for (auto& th : threads) th.join();
  for (int t = 1; t < 4; ++t) EXPECT_EQ(keys[t], keys[0]);
  std::unordered_set<std::size_t> distinct(keys[0].begin(), keys[0].end());
  EXPECT_EQ(distinct.size(), static_cast<std::size_t>(kTexts));
  EXPECT_EQ(interned_names(), before + kTexts);
}
