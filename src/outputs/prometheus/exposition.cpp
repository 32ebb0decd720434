#include "outputs/prometheus/exposition.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <map>

#include "core/name.hpp"
#include "net/json.hpp"

namespace sb::prometheus {

namespace {

void append_escaped_label(std::string& out, std::string_view v) {
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
}

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

void append_labels(std::string& out, const Labels& labels) {
  if (labels.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first;
    out += "=\"";
    append_escaped_label(out, labels[i].second);
    out += '"';
  }
  out += '}';
}

// Families are written whole and in name order: the format wants every series of a family
// under its one HELP and TYPE. Each family's series lines go straight into one buffer.
struct Family {
  std::string_view type;  // gauge, counter, histogram
  std::string help;
  std::string body;
};

class Writer {
 public:
  void add(const std::string& name, std::string_view type, std::string_view help,
           const Labels& labels, double value, std::string_view suffix = "") {
    auto it = families_.find(name);
    if (it == families_.end())
      it = families_.emplace(name, Family{type, std::string(help), {}}).first;
    auto& b = it->second.body;
    b += name;
    b += suffix;
    append_labels(b, labels);
    b += ' ';
    b += number(value);
    b += '\n';
  }
  std::string str() const {
    std::size_t size = 0;
    for (const auto& [name, f] : families_)
      size += f.body.size() + f.help.size() + 2 * name.size() + 32;
    std::string out;
    out.reserve(size);
    for (const auto& [name, f] : families_) {
      out += "# HELP " + name + " " + escape_help(f.help) + "\n";
      out += "# TYPE " + name + " ";
      out += f.type;
      out += '\n';
      out += f.body;
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
  append_escaped_label(out, v);
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

bool per_device(Detail detail, std::size_t connections) {
  if (detail == Detail::Auto) return connections <= kAutoDetailConnections;
  return detail == Detail::Devices;
}

namespace {

// A histogram's series: cumulative buckets as the format wants, then sum and count.
template <std::size_t N>
void histogram(Writer& w, const std::string& name, std::string_view help, const Labels& base,
               const double (&bounds)[N], const std::array<std::uint64_t, N + 1>& counts,
               double sum) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < N; ++i) {
    cumulative += counts[i];
    Labels l = base;
    l.emplace_back("le", number(bounds[i]));
    w.add(name, "histogram", help, l, double(cumulative), "_bucket");
  }
  cumulative += counts[N];
  Labels inf = base;
  inf.emplace_back("le", "+Inf");
  w.add(name, "histogram", help, inf, double(cumulative), "_bucket");
  w.add(name, "histogram", help, base, sum, "_sum");
  w.add(name, "histogram", help, base, double(cumulative), "_count");
}

// Adds the work `h` counts (polls, errors, durations, lateness, gaps) into `sum`: a vendor's
// connections added up, for the families kept per vendor.
void add_work(ConnectionHealth& sum, const ConnectionHealth& h) {
  sum.polls += h.polls;
  sum.implausible_values += h.implausible_values;
  sum.gaps_found += h.gaps_found;
  sum.gaps_open += h.gaps_open;
  sum.gaps_unfilled += h.gaps_unfilled;
  sum.samples_backfilled += h.samples_backfilled;
  sum.samples_estimated += h.samples_estimated;
  sum.polls_late += h.polls_late;
  for (const auto& [kind, n] : h.failures_by_kind) sum.failures_by_kind[kind] += n;
  for (std::size_t i = 0; i < sum.latency_counts.size(); ++i)
    sum.latency_counts[i] += h.latency_counts[i];
  sum.latency_sum_s += h.latency_sum_s;
  for (std::size_t i = 0; i < sum.lateness_counts.size(); ++i)
    sum.lateness_counts[i] += h.lateness_counts[i];
  sum.lateness_sum_s += h.lateness_sum_s;
}

// The families that count a connection's work: per connection (`base` names it) or, from
// add_work's sums, per vendor.
void work_families(Writer& w, const Labels& base, const ConnectionHealth& h) {
  w.add("sunbridge_implausible_values_total", "counter",
        "vendor values not stored: outside what their metric can be", base,
        double(h.implausible_values));
  w.add("sunbridge_polls_total", "counter", "polls of the connection's devices", base,
        double(h.polls));
  // Every kind appears, zero or not, so that rate() works from the first error on.
  for (auto kind : kErrorKinds) {
    auto name = std::string(to_string(kind));
    auto it = h.failures_by_kind.find(name);
    Labels l = base;
    l.emplace_back("kind", name);
    w.add("sunbridge_poll_errors_total", "counter", "failed polls by error kind", l,
          it == h.failures_by_kind.end() ? 0 : double(it->second));
  }
  histogram(w, "sunbridge_poll_duration_seconds", "how long successful polls took", base,
            kPollLatencyBuckets, h.latency_counts, h.latency_sum_s);
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
}

void device_families(Writer& w, const std::vector<DeviceLive>& live) {
  for (const auto& dev : live) {
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
        auto field = v.metric.str().substr(v.metric.str().find('.', 7) + 1);
        Labels l = base;
        l.emplace_back("field", field);
        w.add("sunbridge_vendor_value", "gauge",
              "a vendor value with no canonical metric, in the vendor's unit", l, v.value);
      }
    }
  }
}

}  // namespace

std::string render(const GatewayApi& gw, const store::StoreStats& store,
                   const std::optional<FleetWorkerStats>& fleet, Detail detail) {
  Writer w;
  const auto health = gw.health();
  const bool devices = per_device(detail, health.size());
  if (devices) device_families(w, gw.live());

  std::map<std::string, ConnectionHealth> vendors;  // each vendor's connections added up
  std::map<std::string, std::map<std::string, std::int64_t>> states;  // by vendor, by state
  for (const auto& h : health) {
    Labels base{{"connection", h.name}, {"vendor", h.vendor}};
    // What an operator acts on, per connection whatever the detail: its state, its last
    // success, its failures.
    w.add("sunbridge_connection_up", "gauge", "1 while the connection's last poll succeeded", base,
          h.state == "ok" ? 1 : 0);
    if (h.last_success)
      w.add("sunbridge_connection_last_success_timestamp_seconds", "gauge",
            "when a poll of the connection last succeeded (Unix time)", base,
            double(to_ms(*h.last_success)) / 1000);
    w.add("sunbridge_connection_failures_total", "counter",
          "failed polls of the connection, every kind", base, double(h.failures));
    // Summed per vendor, only the connections that need credentials have it (while they do):
    // the alerts ask for == 1.
    if (devices || h.state == "needs_credentials")
      w.add("sunbridge_connection_needs_credentials", "gauge",
            "1 while the vendor refuses the connection's credentials", base,
            h.state == "needs_credentials" ? 1 : 0);
    // An account's budget is its own whatever the detail (cloud connections only).
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
    if (devices) work_families(w, base, h);
    states[h.vendor][h.state]++;
    add_work(vendors[h.vendor], h);
  }
  for (const auto& [vendor, v] : vendors) {
    Labels base{{"vendor", vendor}};
    for (const auto& [state, n] : states[vendor]) {
      Labels l = base;
      l.emplace_back("state", state);
      w.add("sunbridge_connections", "gauge",
            "connections by state (starting, ok, failing, needs_credentials)", l, double(n));
    }
    w.add("sunbridge_polls_late_total", "counter",
          "poll rounds that started later than a tenth of their interval (at least 1 s) after "
          "they were due",
          base, double(v.polls_late));
    histogram(w, "sunbridge_poll_lateness_seconds",
              "how long after it was due each planned poll round started", base,
              kPollLatenessBuckets, v.lateness_counts, v.lateness_sum_s);
    if (!devices) work_families(w, base, v);  // else per connection, above
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
  w.add("sunbridge_interned_names", "gauge",
        "device and metric names the process holds (each once, until it exits)", {},
        double(interned_names()));
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
