// A fleet's sites and connections from a file: YAML written like a configuration's `sites:`
// and `connections:`, or CSV with one connection a row (what a portal or a spreadsheet
// exports). The CSV is turned into that YAML, one line a row, and checked by the same parser,
// so every mistake a configuration can have is found in a CSV too and named by its row.
#include <algorithm>
#include <boost/algorithm/string/case_conv.hpp>
#include <cctype>
#include <charconv>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "engine/fleet.hpp"

namespace sb::engine {

namespace {

struct CsvRow {
  std::size_t line = 0;  // where the row starts in the file (1-based)
  std::vector<std::string> fields;
};

// RFC 4180: fields separated by commas, quoted with '"' when they hold commas, quotes ("")
// or line breaks; CRLF or LF; a UTF-8 byte-order mark ignored; blank lines skipped.
Result<std::vector<CsvRow>> read_csv(std::string_view text, const std::string& name) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  std::size_t line = 1;
  bool quoted = false, was_quoted = false, any = false;
  row.line = 1;
  auto end_field = [&] {
    row.fields.push_back(field);
    field.clear();
    was_quoted = false;
  };
  auto end_row = [&] {
    end_field();
    bool blank = row.fields.size() == 1 && row.fields[0].empty() && !any;
    if (!blank) rows.push_back(std::move(row));
    row = CsvRow{};
    row.line = line;
    any = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"') {
      if (!field.empty())
        return fail(ErrorKind::InvalidArgument,
                    name + ":" + std::to_string(line) +
                        ": a quote inside an unquoted field (quote the whole field and double "
                        "the quote: \"a \"\"b\"\"\")");
      quoted = was_quoted = any = true;
    } else if (c == ',') {
      end_field();
      any = true;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      // the \n ends the row
    } else if (c == '\n') {
      ++line;
      end_row();
    } else {
      if (was_quoted)
        return fail(ErrorKind::InvalidArgument, name + ":" + std::to_string(line) +
                                                    ": text after a quoted field's closing quote");
      field += c;
      any = true;
    }
  }
  if (quoted)
    return fail(ErrorKind::InvalidArgument,
                name + ":" + std::to_string(row.line) + ": a quoted field is never closed");
  end_row();
  return rows;
}

// A YAML double-quoted scalar: the parser sees the text as it was, whatever it holds.
std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Columns of the site a row belongs to (its `sites:` entry) and of the connection itself; any
// other column is a vendor option (`options:`), "account" the budget account.
const std::map<std::string, std::string, std::less<>> kSiteColumns = {{"site_name", "name"},
                                                                      {"timezone", "timezone"},
                                                                      {"latitude", "latitude"},
                                                                      {"longitude", "longitude"}};
const std::set<std::string, std::less<>> kConnectionColumns = {
    "name", "vendor", "site", "host", "port", "tls", "poll_interval", "timeout"};

}  // namespace

Result<FleetFile> parse_fleet_csv(std::string_view text, const std::string& name,
                                  const DriverRegistry& registry) {
  auto rows = read_csv(text, name);
  if (!rows) return fail(rows.error());
  if (rows->empty())
    return fail(ErrorKind::InvalidArgument,
                name +
                    ": empty; the first row names the columns (site, name, vendor, host, "
                    "…)");
  std::vector<std::string> header;
  std::set<std::string> seen;
  for (const auto& h : rows->front().fields) {
    auto col = boost::algorithm::to_lower_copy(trimmed(h));
    if (col.empty())
      return fail(ErrorKind::InvalidArgument,
                  name + ":1: column " + std::to_string(header.size() + 1) + " has no name");
    if (!seen.insert(col).second)
      return fail(ErrorKind::InvalidArgument, name + ":1: column '" + col + "' appears twice");
    header.push_back(col);
  }
  for (const auto* required : {"site", "name", "vendor"})
    if (!seen.contains(required))
      return fail(ErrorKind::InvalidArgument,
                  name + ":1: no '" + std::string(required) +
                      "' column; the first row names the columns (site, name, vendor, host, "
                      "port, poll_interval, timezone, account, and the vendor's options such as "
                      "token or password)");

  FleetFile out;
  std::string errors;
  auto error = [&](std::size_t line, const std::string& m) {
    errors += (errors.empty() ? "" : "\n") + name + ":" + std::to_string(line) + ": " + m;
  };
  // The YAML the rows stand for, a line each, and which row each line came from.
  struct SiteRow {
    std::size_t line;
    std::map<std::string, std::string> values;  // YAML key -> value
  };
  std::vector<std::pair<std::string, SiteRow>> sites;  // in order of first appearance
  std::vector<std::pair<std::size_t, std::string>> connections;
  for (std::size_t r = 1; r < rows->size(); ++r) {
    const auto& row = (*rows)[r];
    if (row.fields.size() != header.size()) {
      error(row.line, std::to_string(row.fields.size()) + " field(s) where the first row names " +
                          std::to_string(header.size()) + " column(s)");
      continue;
    }
    std::string site, conn_name, conn, options, account;
    std::map<std::string, std::string> site_values;
    for (std::size_t i = 0; i < header.size(); ++i) {
      auto v = trimmed(row.fields[i]);
      if (v.empty()) continue;
      const auto& col = header[i];
      if (col == "site") site = v;
      if (col == "name") conn_name = v;
      if (col == "account") {
        account = v;
      } else if (auto s = kSiteColumns.find(col); s != kSiteColumns.end()) {
        site_values[s->second] = v;
      } else if (kConnectionColumns.contains(col)) {
        conn += (conn.empty() ? "" : ", ") + col + ": " + quoted(v);
      } else {
        options += (options.empty() ? "" : ", ") + col + ": " + quoted(v);
      }
    }
    if (site.empty()) {
      error(row.line, "no site");
      continue;
    }
    auto it = std::find_if(sites.begin(), sites.end(), [&](auto& s) { return s.first == site; });
    if (it == sites.end()) {
      sites.push_back({site, {row.line, site_values}});
    } else {
      // The site's columns may be given on its first row only; given again, they must agree.
      for (const auto& [k, v] : site_values) {
        auto& have = it->second.values[k];
        if (have.empty())
          have = v;
        else if (have != v)
          error(row.line, "site '" + site + "' has " + k + " '" + have + "' on line " +
                              std::to_string(it->second.line) + ", '" + v + "' here");
      }
    }
    if (!options.empty()) conn += ", options: {" + options + "}";
    connections.push_back({row.line, "{" + conn + "}"});
    if (!account.empty()) out.accounts[conn_name] = account;
  }
  if (!errors.empty()) return fail(ErrorKind::InvalidArgument, errors);
  if (connections.empty())
    return fail(ErrorKind::InvalidArgument, name + ": no connections below the first row");

  std::string yaml = "sites:\n";
  std::vector<std::size_t> line_of = {0, 0};  // YAML line (1-based) -> CSV line
  for (const auto& [id, s] : sites) {
    std::string entry = "id: " + quoted(id);
    for (const auto& [k, v] : s.values) entry += ", " + k + ": " + quoted(v);
    yaml += "  - {" + entry + "}\n";
    line_of.push_back(s.line);
  }
  yaml += "connections:\n";
  line_of.push_back(0);
  for (const auto& [line, c] : connections) {
    yaml += "  - " + c + "\n";
    line_of.push_back(line);
  }
  auto cfg = parse_config(yaml, name, registry);
  if (cfg) {
    out.config = std::move(*cfg);
    return out;
  }
  // "NAME:LINE:COL: message" of the YAML becomes "NAME:ROW: message" of the CSV; the message
  // names the column ('port', 'token', …).
  std::string msg;
  const auto& all = cfg.error().message;
  for (std::size_t at = 0; at < all.size();) {
    auto end = std::min(all.find('\n', at), all.size());
    std::string_view l(all.data() + at, end - at);
    at = end + 1;
    std::string text(l);
    if (l.starts_with(name + ":")) {
      auto rest = l.substr(name.size() + 1);
      std::size_t yline = 0;
      auto [end_of_line, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), yline);
      auto after = rest.substr(static_cast<std::size_t>(end_of_line - rest.data()));
      if (yline > 0 && after.starts_with(":")) {
        auto colon = after.find(": ");
        auto message = colon == std::string_view::npos ? after : after.substr(colon + 2);
        text = name +
               (yline < line_of.size() && line_of[yline] > 0 ? ":" + std::to_string(line_of[yline])
                                                             : std::string()) +
               ": " + std::string(message);
      }
    }
    msg += (msg.empty() ? "" : "\n") + text;
  }
  return fail(ErrorKind::InvalidArgument, msg);
}

Result<FleetFile> load_fleet_file(const std::string& path, const DriverRegistry& registry) {
  if (!boost::algorithm::to_lower_copy(path).ends_with(".csv")) {
    auto cfg = load_config(path, registry);
    if (!cfg) return fail(cfg.error());
    return FleetFile{std::move(*cfg), {}};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorKind::InvalidArgument, path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_fleet_csv(text.str(), path, registry);
}

}  // namespace sb::engine
