#include "outputs/prometheus/exposition.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <map>

#include "net/json.hpp"

namespace sb::prometheus {

namespace {

std::string_view suffix_of(Unit u, MetricKind kind) {
  switch (u) {
    case Unit::Watt:
      return "_watts";
    case Unit::WattHour:  // energy in the base unit, as promtool insists (1 Wh = 3600 J)
      return kind == MetricKind::Counter ? "_joules_total" : "_joules";
    case Unit::Percent:
      return "_ratio";
    case Unit::Volt:
      return "_volts";
    case Unit::Ampere:
      return "_amperes";
    case Unit::Hertz:
      return "_hertz";
    case Unit::Celsius:
      return "_celsius";
    case Unit::Boolean:
    case Unit::State:
    case Unit::None:
      return "";
  }
  return "";
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return net::number_text(v);
}

using Labels = std::vector<std::pair<std::string, std::string>>;

std::string label_text(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first + "=\"" + escape_label(labels[i].second) + "\"";
  }
  return out + "}";
}

// Families are written whole and in name order: the format wants every series of a family
// under its one HELP and TYPE.
struct Family {
  std::string type;  // gauge, counter, histogram
  std::string help;
  std::vector<std::string> lines;
};

class Writer {
 public:
  Family& family(const std::string& name, std::string type, std::string_view help) {
    auto& f = families_[name];
    if (f.type.empty()) {
      f.type = std::move(type);
      f.help = std::string(help);
    }
    return f;
  }
  void add(const std::string& name, std::string type, std::string_view help, const Labels& labels,
           double value, std::string_view suffix = "") {
    family(name, std::move(type), help)
        .lines.push_back(name + std::string(suffix) + label_text(labels) + " " + number(value));
  }
  std::string str() const {
    std::string out;
    for (const auto& [name, f] : families_) {
      out += "# HELP " + name + " " + escape_help(f.help) + "\n";
      out += "# TYPE " + name + " " + f.type + "\n";
      for (const auto& l : f.lines) out += l + "\n";
    }
    return out;
  }

 private:
  static std::string escape_help(std::string_view h) {
    std::string out;
    for (char c : h) {
      if (c == '\\')
        out += "\\\\";
      else if (c == '\n')
        out += "\\n";
      else
        out += c;
    }
    return out;
  }
  std::map<std::string, Family> families_;
};

}  // namespace

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::optional<Name> name_of(std::string_view id) {
  auto def = find_metric(id);
  if (!def) return std::nullopt;
  Name n;
  n.kind = def->kind;
  n.help = def->description;
  if (def->unit == Unit::Percent) n.divide = 100;
  if (def->unit == Unit::WattHour) n.multiply = 3600;
  // Walk the pattern and the id side by side: "{n}" takes the id's number as a label named
  // after the segment before it.
  std::string family = "sunbridge";
  std::string_view pattern = def->id, previous;
  std::size_t pi = 0, ii = 0;
  while (pi <= pattern.size()) {
    auto pdot = pattern.find('.', pi), idot = id.find('.', ii);
    auto pseg = pattern.substr(pi, pdot == pattern.npos ? pattern.npos : pdot - pi);
    auto iseg = id.substr(ii, idot == id.npos ? id.npos : idot - ii);
    if (pseg == "{n}")
      n.labels.emplace_back(std::string(previous), std::string(iseg));
    else
      family += "_" + std::string(pseg);
    previous = pseg;
    if (pdot == pattern.npos || idot == id.npos) break;
    pi = pdot + 1;
    ii = idot + 1;
  }
  n.family = family + std::string(suffix_of(def->unit, def->kind));
  return n;
}

std::string render(const GatewayApi& gw, const store::StoreStats& store,
                   const std::optional<FleetWorkerStats>& fleet) {
  Writer w;

  for (const auto& dev : gw.live()) {
    const auto& d = dev.device;
    Labels base{{"site", d.site}, {"device", d.id}, {"vendor", d.vendor}};
    w.add("sunbridge_device_up", "gauge",
          "1 while the device answers its polls, 0 after three failures in a row", base,
          dev.online ? 1 : 0);
    if (dev.last_success)
      w.add("sunbridge_device_last_success_timestamp_seconds", "gauge",
            "when the device last answered a poll (Unix time)", base,
            double(to_ms(*dev.last_success)) / 1000);
    for (const auto& v : dev.values) {
      if (auto n = name_of(v.metric)) {
        if (v.metric == metric::kDeviceOnline) continue;  // sunbridge_device_up says it
        Labels l = base;
        l.insert(l.end(), n->labels.begin(), n->labels.end());
        w.add(n->family, n->kind == MetricKind::Counter ? "counter" : "gauge", n->help, l,
              n->value_of(v.value));
      } else if (is_vendor_metric(v.metric)) {
        // vendor.<vendor>.<field>: one family, the field as a label, values as the vendor
        // sends them.
        auto field = v.metric.substr(v.metric.find('.', 7) + 1);
        Labels l = base;
        l.emplace_back("field", field);
        w.add("sunbridge_vendor_value", "gauge",
              "a vendor value with no canonical metric, in the vendor's unit", l, v.value);
      }
    }
  }

  const auto health = gw.health();
  for (const auto& h : health) {
    Labels base{{"connection", h.name}, {"vendor", h.vendor}};
    w.add("sunbridge_connection_up", "gauge", "1 while the connection's last poll succeeded", base,
          h.state == "ok" ? 1 : 0);
    w.add("sunbridge_connection_needs_credentials", "gauge",
          "1 while the vendor refuses the connection's credentials", base,
          h.state == "needs_credentials" ? 1 : 0);
    w.add("sunbridge_implausible_values_total", "counter",
          "vendor values not stored: outside what their metric can be", base,
          double(h.implausible_values));
    w.add("sunbridge_polls_total", "counter", "polls of the connection's devices", base,
          double(h.polls));
    // Every kind appears, zero or not, so that rate() works from the first error on.
    for (auto kind : {ErrorKind::Transport, ErrorKind::Timeout, ErrorKind::Auth,
                      ErrorKind::RateLimited, ErrorKind::Protocol, ErrorKind::NotFound,
                      ErrorKind::NotSupported, ErrorKind::InvalidArgument, ErrorKind::Conflict,
                      ErrorKind::Vendor, ErrorKind::Internal}) {
      auto name = std::string(to_string(kind));
      auto it = h.failures_by_kind.find(name);
      Labels l = base;
      l.emplace_back("kind", name);
      w.add("sunbridge_poll_errors_total", "counter", "failed polls by error kind", l,
            it == h.failures_by_kind.end() ? 0 : double(it->second));
    }
    if (h.last_success)
      w.add("sunbridge_connection_last_success_timestamp_seconds", "gauge",
            "when a poll of the connection last succeeded (Unix time)", base,
            double(to_ms(*h.last_success)) / 1000);
    // The poll-duration histogram, cumulative as the format wants.
    const std::string hist = "sunbridge_poll_duration_seconds";
    auto help = "how long successful polls took";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kPollLatencyBucketCount; ++i) {
      cumulative += h.latency_counts[i];
      Labels l = base;
      l.emplace_back("le", number(kPollLatencyBuckets[i]));
      w.add(hist, "histogram", help, l, double(cumulative), "_bucket");
    }
    cumulative += h.latency_counts[kPollLatencyBucketCount];
    Labels inf = base;
    inf.emplace_back("le", "+Inf");
    w.add(hist, "histogram", help, inf, double(cumulative), "_bucket");
    w.add(hist, "histogram", help, base, h.latency_sum_s, "_sum");
    w.add(hist, "histogram", help, base, double(cumulative), "_count");
    w.add("sunbridge_history_gaps_found_total", "counter",
          "holes in history found after an outage since the start", base, double(h.gaps_found));
    w.add("sunbridge_history_gaps_open", "gauge", "gaps waiting for backfill", base,
          double(h.gaps_open));
    w.add("sunbridge_history_gaps_unfilled_total", "counter",
          "gaps backfill finished with values still missing (given up where no history has them)",
          base, double(h.gaps_unfilled));
    w.add("sunbridge_history_samples_backfilled_total", "counter",
          "samples stored from the vendor's history into gaps", base, double(h.samples_backfilled));
    w.add("sunbridge_history_samples_estimated_total", "counter",
          "counter values estimated across gaps the vendor's history could not fill", base,
          double(h.samples_estimated));
    if (h.budget) {
      w.add("sunbridge_call_budget_used", "gauge",
            "calls of the vendor account's budget used in this period", base, h.budget->used);
      w.add("sunbridge_call_budget_limit", "gauge", "calls the vendor account may make a period",
            base, h.budget->limit);
      w.add("sunbridge_call_budget_remaining", "gauge",
            "calls the vendor account has left in this period", base,
            std::max(0, h.budget->limit - h.budget->used));
      w.add("sunbridge_call_budget_reset_timestamp_seconds", "gauge",
            "when the vendor account's budget starts again (Unix time)", base,
            double(to_ms(h.budget->resets_at)) / 1000);
    }
  }

  // Poll lateness per vendor, not per connection: one histogram whatever the fleet's size.
  struct Lateness {
    std::array<std::uint64_t, kPollLatenessBucketCount + 1> counts{};
    double sum_s = 0;
    std::int64_t late = 0;
  };
  std::map<std::string, Lateness> lateness;
  for (const auto& h : health) {
    auto& v = lateness[h.vendor];
    for (std::size_t i = 0; i < v.counts.size(); ++i) v.counts[i] += h.lateness_counts[i];
    v.sum_s += h.lateness_sum_s;
    v.late += h.polls_late;
  }
  for (const auto& [vendor, v] : lateness) {
    Labels base{{"vendor", vendor}};
    w.add("sunbridge_polls_late_total", "counter",
          "poll rounds that started later than a tenth of their interval (at least 1 s) after "
          "they were due",
          base, double(v.late));
    const std::string hist = "sunbridge_poll_lateness_seconds";
    auto help = "how long after it was due each planned poll round started";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kPollLatenessBucketCount; ++i) {
      cumulative += v.counts[i];
      Labels l = base;
      l.emplace_back("le", number(kPollLatenessBuckets[i]));
      w.add(hist, "histogram", help, l, double(cumulative), "_bucket");
    }
    cumulative += v.counts[kPollLatenessBucketCount];
    Labels inf = base;
    inf.emplace_back("le", "+Inf");
    w.add(hist, "histogram", help, inf, double(cumulative), "_bucket");
    w.add(hist, "histogram", help, base, v.sum_s, "_sum");
    w.add(hist, "histogram", help, base, double(cumulative), "_count");
  }

  for (const auto& q : gw.quality()) {
    Labels l{{"site", q.site}};
    w.add("sunbridge_energy_balance_checks_total", "counter",
          "hours whose energy balance (pv + import + discharge = load + export + charge) was "
          "judged",
          l, double(q.balance_checks));
    w.add("sunbridge_energy_balance_flagged_total", "counter",
          "hours whose energy balance was off by more than the tolerance", l,
          double(q.balance_flagged));
    w.add("sunbridge_energy_balance_uncheckable_total", "counter",
          "hours whose energy balance could not be judged (a counter missing)", l,
          double(q.balance_uncheckable));
    if (q.last_window)
      w.add("sunbridge_energy_balance_residual_joules", "gauge",
            "in minus out of the last hour judged", l, q.last_residual_wh * 3600);
  }
  w.add("sunbridge_store_queue_depth", "gauge", "samples waiting for the store's writer", {},
        double(store.queue_depth));
  w.add("sunbridge_store_samples_written_total", "counter", "samples the store has written", {},
        double(store.samples_written));
  w.add("sunbridge_store_samples_dropped_total", "counter",
        "samples not kept: the store's queue was full or the database refused them", {},
        double(store.samples_dropped));
  w.add("sunbridge_store_busy_retries_total", "counter",
        "writes that found the database locked by another process", {}, double(store.busy_retries));
  if (store.database_bytes > 0)
    w.add("sunbridge_store_database_bytes", "gauge", "the database file and its write-ahead log",
          {}, double(store.database_bytes));
  if (store.disk_free_bytes >= 0) {
    w.add("sunbridge_store_disk_free_bytes", "gauge", "free space on the database's file system",
          {}, double(store.disk_free_bytes));
    w.add("sunbridge_store_disk_size_bytes", "gauge", "size of the database's file system", {},
          double(store.disk_total_bytes));
  }
  w.add("sunbridge_store_batches_total", "counter", "write transactions of the store", {},
        double(store.batches));
  if (fleet) {
    // A fleet worker's own share: every worker is scraped, and the sums are the fleet's.
    Labels l{{"worker", fleet->worker}};
    w.add("sunbridge_fleet_leases_held", "gauge", "fleet connections this worker holds", l,
          double(fleet->leases_held));
    w.add("sunbridge_fleet_connections", "gauge", "the fleet's connections, as last counted", l,
          double(fleet->connections));
    w.add("sunbridge_fleet_workers_alive", "gauge", "workers alive, as this one last counted", l,
          double(fleet->workers_alive));
    w.add("sunbridge_fleet_connections_taken_total", "counter",
          "fleet connections this worker claimed", l, double(fleet->taken));
    w.add("sunbridge_fleet_connections_handed_back_total", "counter",
          "fleet connections this worker gave back (over its fair share, or not opening with its "
          "key)",
          l, double(fleet->handed_back));
    w.add("sunbridge_fleet_connections_lost_total", "counter",
          "fleet connections this worker lost (another took them, or it could not renew in time)",
          l, double(fleet->lost));
    w.add("sunbridge_fleet_round_failures_total", "counter",
          "lease rounds that met an error (the database unreachable, a failed claim)", l,
          double(fleet->round_failures));
    for (auto [outcome, n] :
         {std::pair{"run", fleet->commands_run}, std::pair{"refused", fleet->commands_refused},
          std::pair{"forwarded", fleet->commands_forwarded}}) {
      Labels c = l;
      c.emplace_back("outcome", outcome);
      w.add("sunbridge_fleet_commands_total", "counter",
            "queued fleet commands: run or refused here, or forwarded to their holder", c,
            double(n));
    }
    if (fleet->view_read_at)
      w.add("sunbridge_fleet_view_timestamp_seconds", "gauge",
            "when the other workers' status was last read (Unix time)", l,
            double(to_ms(*fleet->view_read_at)) / 1000);
  }
  w.add("sunbridge_build_info", "gauge", "the running sunbridge's version (always 1)",
        {{"version", SUNBRIDGE_VERSION}}, 1);
  return w.str();
}

}  // namespace sb::prometheus
