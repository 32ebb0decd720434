// `sunbridge auth VENDOR`: the OAuth 2.0 authorization-code flow for a connection of a cloud
// that has an OAuth app (net/oauth_app.hpp: FoxESS, foxess.md §2.3; Enphase, protocols.md §4).
// Prints the cloud's authorize address, catches the redirect with the code on a loopback listener
// (RFC 8252), checks the state, trades the code for tokens and writes them to the connection's
// token_file (0600). With --code it trades a code copied from a browser on another machine instead.
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include "cli/commands.hpp"
#include "cli/vendors.hpp"
#include "engine/config.hpp"
#include "engine/drivers.hpp"
#include "net/driver_env.hpp"
#include "net/http_client.hpp"
#include "net/http_server.hpp"
#include "net/token_file.hpp"

namespace sb::cli {

namespace {

struct AuthOptions {
  std::string vendor;
  std::string config;
  std::string connection;
  int port = 8765;
  std::string wait = "5m";
  std::string code;
  std::string redirect_uri;
  std::string scope = "all";
};

std::string random_state() {
  std::random_device rd;
  std::string s;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 32; ++i) s += kHex[rd() % 16];
  return s;
}

struct Callback {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
  std::string code, state, error;
};

int auth(const AuthOptions& o) {
  const auto* vendor = find_vendor(o.vendor);
  if (!vendor || !vendor->oauth)
    return report("no OAuth sign-in for vendor '" + o.vendor + "' (valid: " +
                  vendor_names([](const sim::Vendor& v) { return v.oauth.has_value(); }) +
                  "; the other vendors use keys or passwords in the config)");
  const auto& app = *vendor->oauth;
  const std::string& label = app.label;
  auto wait = parse_duration(o.wait);
  if (!wait) return report("--wait: " + wait.error().message);
  auto cfg = engine::load_config(o.config, engine::builtin_drivers());
  if (!cfg) return report(cfg.error().message);
  const ConnectionConfig* conn = nullptr;
  std::string names;
  for (const auto& c : cfg->connections) {
    if (c.vendor != o.vendor) continue;
    names += (names.empty() ? "" : ", ") + c.name;
    if (c.name == o.connection || (o.connection.empty() && c.options.contains("client_id"))) {
      if (conn && o.connection.empty())
        return report("several " + label + " connections in " + o.config +
                      " use OAuth; name one with --connection (" + names + ")");
      conn = &c;
    }
  }
  if (!conn)
    return report(o.connection.empty()
                      ? "no " + label + " connection with client_id in " + o.config
                      : "no " + label + " connection '" + o.connection + "' in " + o.config +
                            (names.empty() ? "" : " (" + label + " connections: " + names + ")"));
  auto sign_in = app.sign_in(*conn);
  if (!sign_in) return report(sign_in.error().message);
  const std::string& client_id = sign_in->client_id;

  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  auto finish = [&](int rc) {
    guard.reset();
    io.stop();
    runner.join();
    return rc;
  };
  net::HttpClient http(io.get_executor());
  RealClock clock;

  std::string code = o.code, redirect = o.redirect_uri;
  if (code.empty()) {
    // Catch the redirect on a loopback port.
    auto cb = std::make_shared<Callback>();
    auto state = random_state();
    auto router = std::make_shared<net::Router>();
    router->get(
        "/callback",
        [cb, state, label](net::ServerRequest& req) -> boost::asio::awaitable<net::ServerResponse> {
          std::string page;
          {
            std::lock_guard lock(cb->mutex);
            if (cb->done) {
              page = "sunbridge already has an answer; this page can be closed.";
            } else if (req.query["state"] != state) {
              page = "This answer is not for the sign-in sunbridge started (state differs).";
              cb->error = "the redirect carried a different state: not our sign-in";
            } else if (!req.query["error"].empty()) {
              cb->error = "the cloud said " + req.query["error"] +
                          (req.query["error_description"].empty()
                               ? ""
                               : " (" + req.query["error_description"] + ")");
              page = "The sign-in did not succeed: " + cb->error;
            } else if (req.query["code"].empty()) {
              cb->error = "the redirect carried no code";
              page = "The sign-in did not succeed: no code.";
            } else {
              cb->code = req.query["code"];
              page = "sunbridge received the " + label + " authorization; this page can be closed.";
            }
            if (!cb->error.empty() || !cb->code.empty()) cb->done = true;
          }
          cb->cv.notify_all();
          co_return net::ServerResponse::text(200, "<html><body><p>" + page + "</p></body></html>",
                                              "text/html; charset=utf-8");
        });
    net::HttpServer server(io.get_executor(), router);
    if (auto l = server.listen("127.0.0.1", std::uint16_t(o.port)); !l)
      return finish(report("cannot listen on 127.0.0.1:" + std::to_string(o.port) +
                           " for the redirect (" + l.error().message +
                           "); pick another with --port"));
    redirect = "http://127.0.0.1:" + std::to_string(server.port()) + "/callback";
    std::cout << "Open this address in a browser, sign in to " << app.portal << " and allow '"
              << client_id << "':\n\n  " << app.authorize_url(*sign_in, redirect, o.scope, state)
              << "\n\nWaiting for the redirect to " << redirect << " (up to " << o.wait
              << "). If the browser runs on another machine its page will not load: copy the "
                 "code= value from its address bar and run this again with --code <code> "
                 "--redirect-uri "
              << redirect << "\n"
              << std::flush;
    std::unique_lock lock(cb->mutex);
    bool answered = cb->cv.wait_for(lock, *wait, [&] { return cb->done; });
    lock.unlock();
    server.stop();
    if (!answered)
      return finish(report("no redirect within " + o.wait + "; run it again (or use --code)"));
    if (!cb->error.empty()) return finish(report("sign-in failed: " + cb->error));
    code = cb->code;
  } else if (redirect.empty()) {
    return finish(report("--code needs --redirect-uri: the address the code was sent to"));
  }

  auto op = app.exchange_code(http, *sign_in, code, redirect, conn->timeout);
  auto tokens = boost::asio::co_spawn(io, std::move(op), boost::asio::use_future).get();
  if (!tokens) return finish(report("the cloud did not trade the code: " + tokens.error().message));
  net::TokenFile t{client_id, tokens->access_token, tokens->refresh_token,
                   clock.now() + (tokens->expires_in.count() > 0 ? Millis(tokens->expires_in)
                                                                 : Millis(86'400'000))};
  const auto& file = sign_in->token_file;
  if (auto w = net::save_token_file(file, t); !w) return finish(report(w.error().message));
  std::cout << "Tokens for connection '" << conn->name << "' saved to " << file
            << " (mode 0600); the access token is valid until " << format_iso8601(t.expires_at)
            << " and sunbridge renews it from then on.\n";
  return finish(0);
}

}  // namespace

void register_auth(CLI::App& app, int& rc) {
  std::string clouds;
  for (const auto& v : vendors())
    if (v.oauth) clouds += (clouds.empty() ? "" : ", ") + v.oauth->portal;
  auto* cmd = app.add_subcommand(
      "auth", "Sign a connection in with OAuth 2.0 and save its tokens (" + clouds + ")");
  auto o = std::make_shared<AuthOptions>();
  cmd->add_option("vendor", o->vendor,
                  "the connection's vendor (" +
                      vendor_names([](const sim::Vendor& v) { return v.oauth.has_value(); }) + ")")
      ->required();
  cmd->add_option("-c,--config", o->config, "configuration file (YAML)")->required();
  cmd->add_option("--connection", o->connection,
                  "the connection to sign in (default: the only one of the vendor with client_id)");
  cmd->add_option("--port", o->port, "loopback port for the redirect (0: any free one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--wait", o->wait, "how long to wait for the redirect")->capture_default_str();
  cmd->add_option("--code", o->code, "a code copied from the redirect's address instead");
  cmd->add_option("--redirect-uri", o->redirect_uri, "with --code: the address it was sent to");
  cmd->add_option("--scope", o->scope, "the scope asked for")->capture_default_str();
  cmd->callback([o, &rc] { rc = auth(*o); });
}

}  // namespace sb::cli
