#include "fuzz/harness.hpp"

#include <unistd.h>
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>

#include "core/commands.hpp"
#include "net/crypto.hpp"
#include "net/driver_env.hpp"
#include "net/retry.hpp"
#include "net/token_file.hpp"
#include "vendors/enphase/client.hpp"

namespace sb::fuzz {

namespace {

constexpr std::string_view kMark = "@@ ";

// One record's text (after "@@ ") into an answer.
Answer parse_record(std::string_view rec) {
  Answer a;
  auto eol = rec.find('\n');
  auto first = rec.substr(0, eol);
  int status = 200;
  auto [p, ec] = std::from_chars(first.data(), first.data() + first.size(), status);
  (void)p;
  a.status = ec == std::errc() ? std::clamp(status, 0, 999) : 200;
  if (eol == std::string_view::npos) return a;
  rec.remove_prefix(eol + 1);
  // Header lines up to an empty line; a line without a colon starts the body.
  while (!rec.empty()) {
    auto end = rec.find('\n');
    auto line = rec.substr(0, end);
    if (line.empty()) {
      rec.remove_prefix(end == std::string_view::npos ? rec.size() : end + 1);
      break;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) break;
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    a.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    if (end == std::string_view::npos) {
      rec = {};
      break;
    }
    rec.remove_prefix(end + 1);
  }
  a.body = std::string(rec);
  return a;
}

}  // namespace

std::vector<Answer> parse_script(std::string_view data) {
  std::vector<Answer> out;
  if (!data.starts_with(kMark)) return out;
  std::size_t at = kMark.size();
  while (at <= data.size()) {
    auto next = data.find("\n@@ ", at);
    auto end = next == std::string_view::npos ? data.size() : next;
    out.push_back(parse_record(data.substr(at, end - at)));
    if (next == std::string_view::npos || out.size() >= 4096) break;
    at = next + 1 + kMark.size();
  }
  return out;
}

std::string script_record(int status, const net::Headers& headers, std::string_view body) {
  std::string out = std::string(kMark) + std::to_string(status) + "\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\n";
  out += "\n";
  out += body;
  out += "\n";
  return out;
}

TimePoint session_start() {
  using namespace std::chrono;
  return time_point_cast<Millis>(sys_days(year(2026) / 6 / 21) + hours(10));
}

Result<net::HttpResponse> scripted_answer(const std::vector<Answer>& script, std::size_t& next) {
  if (next >= script.size()) return fail(ErrorKind::Transport, "the script has ended");
  const Answer& a = script[next++];
  if (a.status == 0) return fail(ErrorKind::Transport, "scripted connection reset");
  if (a.status == 1) return fail(ErrorKind::Timeout, "scripted timeout");
  return net::HttpResponse{a.status, a.headers, a.body};
}

namespace {

// Each command the device says it takes, with a value inside its limits.
std::vector<Command> commands_for(const DeviceInfo& d, const Capabilities& c) {
  std::vector<Command> out;
  auto add = [&](CommandType t, double value, std::string argument = {}) {
    Command cmd;
    cmd.device = d.id;
    cmd.type = t;
    cmd.value = value;
    cmd.argument = std::move(argument);
    cmd.requested_by = "fuzz";
    out.push_back(std::move(cmd));
  };
  for (const auto& spec : command_catalogue()) {
    const auto* l = c.command(spec.type);
    if (!l) continue;
    switch (spec.kind) {
      case ArgumentKind::Number:
        add(spec.type, std::clamp(spec.unit == "W" ? 1000.0 : 20.0, l->low, l->high));
        break;
      case ArgumentKind::OnOff:
        add(spec.type, 1);
        break;
      case ArgumentKind::Choice:
        if (!l->choices.empty()) add(spec.type, 0, l->choices.front());
        break;
      case ArgumentKind::Text:
        add(spec.type, 0,
            spec.type == CommandType::LoadControl && !l->choices.empty()
                ? l->choices.front() + " mode=Basic"
                : std::string("off"));
        break;
      case ArgumentKind::None:
        break;
    }
  }
  // Release last: it hands back what the others took.
  if (c.takes(CommandType::Release)) add(CommandType::Release, 0);
  return out;
}

}  // namespace

namespace {

std::string number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.10g", v);
  return b;
}

template <class T>
std::string outcome_text(const Result<T>& r) {
  return r ? std::string("ok") : "failed: " + r.error().describe();
}

}  // namespace

asio::awaitable<void> driver_session(Driver& driver, ManualClock& clock, SessionLog* log) {
  auto note = [log](std::string line) {
    if (log) log->lines.push_back(std::move(line));
  };
  auto found = co_await driver.discover();
  note("discover: " + outcome_text(found));
  if (found) {
    std::size_t n = 0;
    for (const auto& device : *found) {
      note("device " + device.id + " kind=" + device.kind + " model=" + device.model +
           " serial=" + device.serial + " firmware=" + device.firmware);
      if (n++ == 3) break;
      auto caps = driver.capabilities(device);
      if (log) {
        std::string line = "capabilities " + device.id + ":";
        if (caps.history) line += " history";
        for (const auto& l : caps.commands) {
          line += " " + std::string(to_string(l.type));
          if (command_spec(l.type).kind == ArgumentKind::Number)
            line += "[" + number(l.low) + ".." + number(l.high) + "]";
          if (!l.choices.empty()) {
            line += "{";
            for (std::size_t i = 0; i < l.choices.size(); ++i)
              line += (i ? "," : "") + l.choices[i];
            line += "}";
          }
          if (l.count) line += "x" + std::to_string(l.count);
        }
        note(line);
      }
      for (int p = 1; p <= 2; ++p) {
        auto snap = co_await driver.poll(device);
        note("poll " + std::to_string(p) + " " + device.id + ": " + outcome_text(snap));
        if (snap)
          for (const auto& x : snap->samples)
            note("  " + x.device + " " + x.metric + " = " + number(x.value) + " at " +
                 format_iso8601(x.time) + " (" + std::string(to_string(x.quality)) + ")");
        if (p == 1) clock.advance(Millis(60'000));
      }
      if (caps.history) {
        auto now = clock.now();
        auto h = co_await driver.history(device, TimeRange{now - std::chrono::hours(1), now});
        std::string line = "history " + device.id + ": " + outcome_text(h);
        if (h && !h->empty())
          line += ", " + std::to_string(h->size()) + " samples from " +
                  format_iso8601(h->front().time) + " to " + format_iso8601(h->back().time);
        note(line);
      }
      auto st = co_await driver.settings(device);
      note("settings " + device.id + ": " + outcome_text(st));
      if (st)
        for (const auto& x : *st)
          note("  " + std::string(to_string(x.command)) + " = " +
               (x.value ? number(*x.value) : x.argument));
      for (const auto& cmd : commands_for(device, caps)) {
        auto r = co_await driver.apply(device, cmd);
        note("apply " + device.id + " " + std::string(to_string(cmd.type)) + " " +
             (command_takes_argument(cmd.type) ? cmd.argument : number(cmd.value)) + ": " +
             (r ? (r->verified ? "verified: " : "unverified: ") + r->detail
                : "failed: " + r.error().describe()));
      }
    }
  }
  co_await driver.close();
}

namespace {

// What every run shares: an io_context and an HTTP client whose fake peer answers from the
// current run's script (a client per run would spend most of the run making its TLS context).
struct Shared {
  asio::io_context io;
  const std::vector<Answer>* script = nullptr;
  std::size_t next = 0;
  net::HttpClient http{io.get_executor(), [this] {
                         net::HttpClientOptions o;
                         o.fake_peer = [this](const net::Endpoint&, const net::HttpRequest&) {
                           return scripted_answer(*script, next);
                         };
                         return o;
                       }()};
  // A run's start: the fixed random stream, the script from its first answer, a fresh io.
  void begin(const std::vector<Answer>& s) {
    crypto::use_fixed_random_for_fuzzing(1);
    script = &s;
    next = 0;
    io.restart();
  }
};

Shared& shared_io() {
  static Shared shared;
  return shared;
}

}  // namespace

void run_client(std::string_view data, const Extra& call) {
  auto& shared = shared_io();
  auto script = parse_script(data);
  shared.begin(script);
  ManualClock clock{session_start()};
  asio::co_spawn(shared.io, call(shared.http, clock), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);  // an exception escaping a client is a finding
  });
  shared.io.run();
  shared.io.restart();
  shared.io.run();
}

void run_scripted(const DriverRegistry::Entry& entry, const ConnectionConfig& config,
                  std::string_view data, const Extra& extra, SessionLog* log) {
  auto& shared = shared_io();
  auto script = parse_script(data);
  shared.begin(script);
  ManualClock clock{session_start()};
  net::ManualSleeper sleeper{clock};
  DriverEnv env{shared.io.get_executor(), clock, shared.http, sleeper, nullptr};
  auto made = entry.factory(config, env);
  if (!made) std::abort();  // the harness's own configuration is wrong
  std::unique_ptr<Driver> driver = std::move(*made);
  asio::co_spawn(
      shared.io,
      [&]() -> asio::awaitable<void> {
        co_await driver_session(*driver, clock, log);
        if (extra) co_await extra(shared.http, clock);
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);  // an exception escaping a driver is a finding
      });
  shared.io.run();
  driver.reset();
  shared.io.restart();
  shared.io.run();  // whatever the driver's end posted
  // How much of the script the session used: a recorded seed should use all of it (a replay
  // that diverges from the recording, a KOSTAL login that no longer verifies, shows here).
  static const bool verbose = std::getenv("SB_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "used %zu of %zu answers\n", shared.next, script.size());
}

}  // namespace sb::fuzz

namespace sb::fuzz {

const std::string& process_temp_file(std::string_view stem) {
  struct TempFile {
    std::string path;
    ~TempFile() {
      std::error_code ignored;
      std::filesystem::remove(path, ignored);
    }
  };
  // A deque keeps each path where it is while others are added; its files go at exit.
  static std::mutex mutex;
  static std::deque<TempFile> files;
  auto path = (std::filesystem::temp_directory_path() /
               ("sunbridge-fuzz-" + std::string(stem) + "-" + std::to_string(::getpid()) + ".json"))
                  .string();
  std::lock_guard lock(mutex);
  for (const auto& f : files)
    if (f.path == path) return f.path;
  return files.emplace_back(std::move(path)).path;
}

ConnectionConfig vendor_config(std::string_view vendor) {
  ConnectionConfig c;
  c.name = std::string(vendor);
  c.vendor = std::string(vendor);
  c.site = "home";
  c.host = "127.0.0.1";
  c.poll_interval = Millis(60'000);
  c.timeout = Millis(3000);
  auto& o = c.options;
  if (vendor == "kostal") {
    o["password"] = "owner-password";
    o["role"] = "user";
    o["verify_timeout"] = "10";
  } else if (vendor == "foxess") {
    o["api_key"] = "fox-0123456789abcdef0123456789abcdef";
    o["verify_timeout"] = "10";
  } else if (vendor == "enphase") {
    o["api_key"] = "enph-3f1c9a0d7b2e4c6a8f0e1d2c3b4a5968";
    o["client_id"] = "sunbridge-enphase-client";
    o["client_secret"] = "enphase-client-secret-0123456789";
    o["token_file"] = process_temp_file("enphase");
    o["plan"] = "partner";
    o["verify_timeout"] = "10";
  } else if (vendor == "solarlog") {
    o["portal"] = "solarCompanyXYZ";
    o["client_id"] = "portal-advanced";
    o["client_secret"] = "portal-advanced-secret";
  } else if (vendor == "sonnen") {
    o["token"] = "sonnen-fuzz-token";
    o["verify_timeout"] = "10";
  }
  return c;
}

void write_enphase_token_file(const std::string& access, const std::string& refresh) {
  auto saved = net::save_token_file(
      process_temp_file("enphase"),
      {"sunbridge-enphase-client", access, refresh, session_start() + std::chrono::minutes(4)});
  if (!saved) std::abort();  // the harness cannot write its temporary folder
}

asio::awaitable<void> enphase_extra(net::HttpClient& http, const Clock& clock, net::Endpoint cloud,
                                    std::string access_token) {
  enphase::Client c(http, cloud, "enph-3f1c9a0d7b2e4c6a8f0e1d2c3b4a5968", Millis(3000));
  c.use_access_token(access_token);
  std::int64_t id = 1;
  if (auto page = co_await c.systems(); page && !page->systems.empty())
    id = page->systems.front().id;
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
  const std::int64_t day = now - 86'400;
  std::string micro, battery, charger;
  if (auto devices = co_await c.devices(id); devices)
    for (const auto& d : *devices) {
      if (d.kind == "micros" && micro.empty()) micro = d.serial;
      if (d.kind == "encharges" && battery.empty()) battery = d.serial;
    }
  // (Named, not `a.empty() ? "x" : a` inside co_await: g++ 12 destroys such a temporary twice.)
  if (micro.empty()) micro = "482100000001";
  if (battery.empty()) battery = "1221";
  (void)co_await c.search("home");
  (void)co_await c.system(id);
  (void)co_await c.summary(id);
  (void)co_await c.system_of_gateway("122100000001");
  (void)co_await c.inverters(id);
  (void)co_await c.events(id, day, now);
  (void)co_await c.alarms(id, day, now, true);
  (void)co_await c.event_types();
  (void)co_await c.meter_readings(id);
  (void)co_await c.rgm_stats(id, day, now);
  for (auto kind : {enphase::LifetimeKind::Energy, enphase::LifetimeKind::Consumption,
                    enphase::LifetimeKind::Battery, enphase::LifetimeKind::Import,
                    enphase::LifetimeKind::Export})
    (void)co_await c.lifetime(id, kind, "2026-06-01", "2026-06-20");
  (void)co_await c.telemetry(id, "production_micro", day, "day");
  (void)co_await c.telemetry(id, "consumption_meter", day, "day");
  (void)co_await c.battery_telemetry(id, day, "day");
  (void)co_await c.grid_telemetry(id, true, day, "day");
  (void)co_await c.micro_telemetry(id, micro, day, "day");
  (void)co_await c.device_battery_telemetry(id, false, battery, day, "day");
  (void)co_await c.latest(id);
  (void)co_await c.battery_settings(id);
  (void)co_await c.storm_guard(id);
  (void)co_await c.grid_status(id);
  (void)co_await c.load_control(id);
  if (auto chargers = co_await c.ev_chargers(id); chargers && !chargers->empty())
    charger = chargers->front().serial;
  if (charger.empty()) charger = "202300000001";
  (void)co_await c.ev_events(id, 0, 20);
  (void)co_await c.ev_sessions(id, charger, 0, 20);
  (void)co_await c.ev_schedules(id, charger);
  (void)co_await c.ev_daily(id, charger, "20260601", "20260620");
  (void)co_await c.ev_telemetry(id, charger, day, "day");
  (void)co_await c.live(id, 30);
}

}  // namespace sb::fuzz
