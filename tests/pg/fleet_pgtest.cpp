// The fleet on a real PostgreSQL 15 server the test starts on a loopback port
// (pg_fixture.hpp): connection leases claimed, renewed and taken over; `sunbridge fleet
// import` and `list` with sealed settings; workers (`sunbridge run`) sharing connections,
// taking over a killed one, running each other's commands, showing the whole fleet, sharing a
// vendor account's budget; and the fleet demo.
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "net/json.hpp"
#include "pg/pg_fixture.hpp"
#include "store/fleet.hpp"
#include "store/store.hpp"

using namespace sb;
using namespace sb::store;
using namespace std::chrono;
using test::device_ports;
using test::kBin;

namespace {

using PgFleet = test::PgTest;

}  // namespace

// Leases of the fleet's connections: two workers claiming at once never take the same one; a
// holder renews what it holds; a connection handed back or expired goes to the next worker
// with a higher epoch, and the old holder's renewal says it lost it.
TEST_F(PgFleet, EachConnectionIsHeldByOneWorkerAndTakenOverWhenItsLeaseEnds) {
  { ASSERT_TRUE(open()); }
  ASSERT_EQ(server_->sql(db_, "INSERT INTO sites VALUES ('s', 'S', 0, 0, 'UTC')"), "");
  auto fleet = open_fleet(url_);
  ASSERT_TRUE(fleet) << fleet.error().message;
  auto& f = **fleet;
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(f.put_connection({"c" + std::to_string(i), "s", "sonnen", "", "v1:x", {}}));
  auto other = open_fleet(url_);
  ASSERT_TRUE(other);
  auto a_claim = std::async(std::launch::async, [&] { return f.claim("a", 6, seconds(60)); });
  auto b_claim =
      std::async(std::launch::async, [&] { return (*other)->claim("b", 6, seconds(60)); });
  auto a = a_claim.get(), b = b_claim.get();
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(a->size() + b->size(), 10u);
  std::set<std::string> held;
  for (const auto& l : *a) held.insert(l.connection);
  for (const auto& l : *b) EXPECT_TRUE(held.insert(l.connection).second) << l.connection;
  EXPECT_EQ(held.size(), 10u);
  EXPECT_TRUE(f.claim("c", 5, seconds(60))->empty());  // nothing is free

  // A renews what it holds; B cannot renew A's.
  EXPECT_EQ(f.renew("a", *a, seconds(60))->size(), a->size());
  EXPECT_TRUE(f.renew("b", *a, seconds(60))->empty());

  // A hands one back: the next claim takes it with epoch 2, and A's renewal drops it.
  ASSERT_FALSE(a->empty());
  auto given = a->front().connection;
  ASSERT_TRUE(f.release("a", {given}));
  auto c = f.claim("c", 5, seconds(60));
  ASSERT_TRUE(c);
  ASSERT_EQ(c->size(), 1u);
  EXPECT_EQ(c->front().connection, given);
  EXPECT_EQ(c->front().epoch, 2);
  EXPECT_EQ(f.renew("a", *a, seconds(60))->size(), a->size() - 1);

  // B stops renewing (a dead worker): once its leases expire, D takes them over.
  ASSERT_TRUE((*other)->renew("b", *b, milliseconds(300)));
  std::vector<ConnectionLease> taken;
  auto deadline = steady_clock::now() + seconds(60);
  while (taken.size() < b->size() && steady_clock::now() < deadline) {
    auto d = f.claim("d", 10, seconds(60));
    ASSERT_TRUE(d);
    taken.insert(taken.end(), d->begin(), d->end());
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(taken.size(), b->size());
  for (const auto& l : taken) EXPECT_EQ(l.epoch, 2) << l.connection;
  EXPECT_TRUE((*other)->renew("b", *b, seconds(60))->empty());  // B has lost them all

  // Workers say they are alive; a removed connection takes its lease with it.
  ASSERT_TRUE(f.heartbeat({"a", "host-1", 42, "http://127.0.0.1:1", {}, {}}));
  auto alive = f.workers(seconds(60));
  ASSERT_TRUE(alive);
  ASSERT_EQ(alive->size(), 1u);
  EXPECT_EQ((*alive)[0].host, "host-1");
  EXPECT_TRUE(*f.remove_connection(given));
  EXPECT_FALSE(*f.remove_connection(given));
  EXPECT_EQ(value("SELECT count(*) FROM fleet_leases"), "9");
}

// The status rows of held connections: a reader asking for what changed after a time gets
// the documents written since and the other rows without theirs (it keeps what it read); a
// row of a connection its writer no longer holds is neither written nor read.
TEST_F(PgFleet, StatusReadsGiveOnlyTheDocumentsWrittenSince) {
  { ASSERT_TRUE(open()); }
  ASSERT_EQ(server_->sql(db_, "INSERT INTO sites VALUES ('s', 'S', 0, 0, 'UTC')"), "");
  auto fleet = open_fleet(url_);
  ASSERT_TRUE(fleet) << fleet.error().message;
  auto& f = **fleet;
  for (const char* c : {"c1", "c2", "c3"})
    ASSERT_TRUE(f.put_connection({c, "s", "sonnen", "", "v1:x", {}}));
  ASSERT_EQ(f.claim("a", 3, seconds(60))->size(), 3u);
  ASSERT_TRUE(f.put_status("a", {{"c1", "{1}"}, {"c2", "{2}"}, {"c3", "{3}"}}));
  auto all = f.statuses(std::nullopt);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[1].connection, "c2");
  EXPECT_EQ((*all)[1].status, "{2}");
  TimePoint newest = (*all)[0].updated_at;
  for (const auto& r : *all) newest = std::max(newest, r.updated_at);
  // The server's clock moves on a millisecond at least before the next write.
  auto deadline = steady_clock::now() + seconds(30);
  while (std::stoll(value("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint")) <=
             to_ms(newest) &&
         steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(1));
  ASSERT_TRUE(f.put_status("a", {{"c2", "{2b}"}}));
  auto changed = f.statuses(newest);
  ASSERT_TRUE(changed) << changed.error().message;
  std::string seen;
  for (const auto& r : *changed) seen += r.connection + "=" + r.status + " ";
  EXPECT_EQ(seen, "c1= c2={2b} c3= ");
  // c3 handed back: a late write of it changes nothing, and it is not read any more.
  ASSERT_TRUE(f.release("a", {"c3"}));
  ASSERT_TRUE(f.put_status("a", {{"c3", "{3b}"}}));
  EXPECT_EQ(value("SELECT status FROM fleet_status WHERE connection = 'c3'"), "{3}");
  EXPECT_EQ(f.statuses(std::nullopt)->size(), 2u);
}

// One interface of a shared account, paced across workers: three calls asked for at once from
// two workers go a gap apart (the first at once); another interface or account is not held
// up.
TEST_F(PgFleet, CallsOfOneAccountsInterfaceAreSpacedAcrossWorkers) {
  { ASSERT_TRUE(open()); }
  auto a = open_fleet(url_), b = open_fleet(url_);
  ASSERT_TRUE(a && b);
  std::vector<std::future<Result<Millis>>> asks;
  for (auto* f : {a->get(), b->get(), a->get()})
    asks.push_back(std::async(std::launch::async, [f] {
      return f->pace_call("acct-fx", "/op/v1/device/real/query", Millis(1000), false);
    }));
  std::vector<std::int64_t> waits;
  for (auto& f : asks) {
    auto w = f.get();
    ASSERT_TRUE(w) << w.error().message;
    waits.push_back(w->count());
  }
  std::sort(waits.begin(), waits.end());
  // Each wait is counted from its own statement's clock: less than the gap when the clock
  // moved on between the asks, a little more when an ask read it first and then waited for the
  // row the other held.
  EXPECT_LE(waits[0], 0);
  EXPECT_GT(waits[1], 500);
  EXPECT_LE(waits[1], 1100);
  EXPECT_GT(waits[2], 1500);
  EXPECT_LE(waits[2], 2100);
  EXPECT_EQ((*b)->pace_call("acct-fx", "/op/v0/device/list", Millis(1000), false)->count(), 0);
  EXPECT_EQ((*b)->pace_call("acct-other", "/op/v1/device/real/query", Millis(1000), false)->count(),
            0);
  // A call answered late (the cloud may have taken it just now): the next one goes a gap after
  // the answer, not after the moment the call was sent.
  EXPECT_EQ((*a)->pace_call("acct-other", "/op/v0/device/list", Millis(1000), false)->count(), 0);
  EXPECT_EQ((*a)->pace_call("acct-other", "/op/v0/device/list", Millis(5000), true)->count(), 0);
  auto after = (*b)->pace_call("acct-other", "/op/v0/device/list", Millis(1000), false);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_GT(after->count(), 4000);
  EXPECT_LE(after->count(), 5000);
  // An answer never moves the next moment back.
  EXPECT_EQ((*a)->pace_call("acct-other", "/op/v0/device/list", Millis(0), true)->count(), 0);
  EXPECT_GT((*b)->pace_call("acct-other", "/op/v0/device/list", Millis(1000), false)->count(),
            4500);
}

// `sunbridge fleet import` stores a file's sites and connections with their settings sealed
// (a pg_dump of the database shows no token), `fleet list` shows them and who holds each, and
// a wrong key or a configuration without one is refused with what to do.
TEST_F(PgFleet, FleetImportSealsTheSettingsAndListShowsThem) {
  auto dir = test::temp_dir("pg-fleet");
  std::ofstream(dir / "fleet.key")
      << "8f3a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8\n";
  auto cfg = dir / "fleet.yaml";
  std::ofstream(cfg) << "gateway:\n  database: " << url_
                     << "\nfleet:\n  key_file: " << (dir / "fleet.key").string() << "\n";
  auto file = dir / "sites.yaml";
  std::ofstream(file)
      << "sites:\n  - id: north\n    timezone: Europe/Berlin\n  - id: south\n    timezone: "
         "Europe/Vienna\nconnections:\n"
      << "  - name: bat-1\n    vendor: sonnen\n    site: north\n    host: 10.1.0.5\n    options:\n"
         "      token: tok-very-secret-1\n"
      << "  - name: bat-2\n    vendor: sonnen\n    site: south\n    host: 10.2.0.5\n    options:\n"
         "      token: tok-very-secret-2\n";
  test::Process imp({kBin, "fleet", "-c", cfg.string(), "import", file.string()});
  ASSERT_EQ(imp.wait(seconds(60)), 0) << imp.rest_of_stderr();
  EXPECT_NE(imp.rest_of_stdout().find("2 site(s), 2 connection(s) stored in postgresql://"),
            std::string::npos);
  test::Process ls({kBin, "fleet", "-c", cfg.string(), "list"});
  ASSERT_EQ(ls.wait(seconds(60)), 0) << ls.rest_of_stderr();
  auto out = ls.rest_of_stdout();
  EXPECT_NE(out.find("bat-1\tsonnen\tnorth\t-\t10.1.0.5\tnobody"), std::string::npos) << out;
  EXPECT_NE(out.find("bat-2\tsonnen\tsouth\t-\t10.2.0.5\tnobody"), std::string::npos) << out;
  EXPECT_EQ(out.find("tok-very-secret"), std::string::npos) << out;

  test::Process dump({std::string(test::PgServer::kBin) + "pg_dump", "-h", "127.0.0.1", "-p",
                      std::to_string(server_->port()), "-U", "sunbridge", db_});
  std::string all;
  while (auto l = dump.line(seconds(60))) all += *l + "\n";
  EXPECT_EQ(dump.wait(seconds(60)), 0);
  EXPECT_NE(all.find("COPY public.fleet_connections"), std::string::npos);
  EXPECT_EQ(all.find("tok-very-secret"), std::string::npos);
  EXPECT_EQ(all.find("10.1.0.5"), std::string::npos);

  // Another key opens nothing: the list says so per connection, and exits 0 (it is a view).
  std::ofstream(dir / "fleet.key", std::ios::trunc) << std::string(64, 'b') << "\n";
  test::Process wrong({kBin, "fleet", "-c", cfg.string(), "list"});
  ASSERT_EQ(wrong.wait(seconds(60)), 0);
  EXPECT_NE(wrong.rest_of_stdout().find("? connection 'bat-1' in the database: its settings do "
                                        "not open with the fleet key"),
            std::string::npos);

  // A home's configuration (no fleet: section) cannot manage a fleet.
  std::ofstream(cfg, std::ios::trunc)
      << "gateway:\n  database: " << url_
      << "\nsites:\n  - id: home\n    timezone: UTC\nconnections:\n  - name: b\n    vendor: "
         "sonnen\n    host: 127.0.0.1\n";
  test::Process nokey({kBin, "fleet", "-c", cfg.string(), "list"});
  EXPECT_EQ(nokey.wait(seconds(60)), 1);
  EXPECT_NE(nokey.rest_of_stderr().find("has no 'fleet:' section naming the key"),
            std::string::npos);
  std::filesystem::remove_all(dir);
}

// Workers of a fleet share its connections through their leases: two split four batteries two
// and two; one killed (SIGKILL, no hand-back) loses its two to the other once their leases run
// out and every battery goes on being stored; a third worker joining gets a fair share back;
// a clean stop hands its connections back at once.
TEST_F(PgFleet, FleetWorkersShareTheConnectionsAndTakeOverAKilledOne) {
  auto dir = test::temp_dir("pg-workers");
  std::ofstream(dir / "fleet.key") << std::string(64, 'c') << "\n";
  test::Process sim({kBin, "simulate", "sonnen", "--listen", "127.0.0.1:0", "--devices", "4",
                     "--token", "tok-fleet"});
  auto ports = device_ports(sim, 4);
  ASSERT_EQ(ports.size(), 4u);
  // A portal's export: one connection a row.
  auto sites = dir / "fleet.csv";
  {
    std::ofstream f(sites);
    f << "site,timezone,name,vendor,host,port,poll_interval,token,account\n";
    for (int i = 0; i < 4; ++i)
      f << "north," << (i == 0 ? "Europe/Berlin" : "") << ",bat-" << i + 1 << ",sonnen,127.0.0.1,"
        << ports[i] << ",1s,tok-fleet,owner-" << i % 2 << "\n";
  }
  auto config = [&](const std::string& name) {
    auto p = dir / (name + ".yaml");
    std::ofstream(p) << "gateway:\n  database: " << url_
                     << "\n  listen: 127.0.0.1:" << test::free_port()
                     << "\nfleet:\n  key_file: " << (dir / "fleet.key").string()
                     << "\n  lease: 3s\n";
    return p.string();
  };
  test::Process imp({kBin, "fleet", "-c", config("import"), "import", sites.string()});
  ASSERT_EQ(imp.wait(seconds(60)), 0) << imp.rest_of_stderr();
  EXPECT_EQ(value("SELECT string_agg(name || '=' || account, ' ' ORDER BY name) FROM "
                  "fleet_connections"),
            "bat-1=owner-0 bat-2=owner-1 bat-3=owner-0 bat-4=owner-1");

  // "worker:count" of the live leases, sorted by worker; "" when none.
  auto held = [&] {
    return value(
        "SELECT coalesce(string_agg(n::text, ',' ORDER BY n), '') FROM (SELECT count(*) AS n "
        "FROM fleet_leases WHERE expires_at > (extract(epoch FROM clock_timestamp()) * 1000)"
        "::bigint GROUP BY worker) x");
  };
  auto wait_for = [&](auto done, seconds limit) {
    auto deadline = steady_clock::now() + limit;
    while (!done() && steady_clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(200));
    return done();
  };
  // Devices with a sample newer than `since` (ms).
  auto fresh = [&](std::int64_t since) {
    return value(
        "SELECT count(DISTINCT device_id) FROM series s JOIN samples x ON x.series_id = s.id "
        "WHERE x.t > " +
        std::to_string(since));
  };
  auto now_ms = [&] {
    return std::stoll(value("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint"));
  };

  test::Process a({kBin, "run", "-c", config("a")});
  std::string seen;
  ASSERT_TRUE(a.stderr_until("joined the fleet", seen, seconds(60))) << seen;
  EXPECT_NE(seen.find("took bat-1, bat-2, bat-3, bat-4"), std::string::npos) << seen;
  test::Process b({kBin, "run", "-c", config("b")});
  ASSERT_TRUE(b.stderr_until("joined the fleet", seen, seconds(60))) << seen;
  // a hands two back at its next round; b takes them at its next.
  ASSERT_TRUE(wait_for([&] { return held() == "2,2"; }, seconds(60))) << held();
  ASSERT_TRUE(wait_for([&] { return fresh(0) == "4"; }, seconds(60))) << fresh(0);
  EXPECT_EQ(value("SELECT count(*) FROM fleet_workers"), "2");

  a.signal(SIGKILL);
  a.wait(seconds(60));
  // a's two leases run out (3 s) and b, alone alive now, holds all four.
  ASSERT_TRUE(wait_for([&] { return held() == "4"; }, seconds(60))) << held();
  auto after = now_ms();
  ASSERT_TRUE(wait_for([&] { return fresh(after) == "4"; }, seconds(60))) << fresh(after);

  test::Process c({kBin, "run", "-c", config("c")});
  ASSERT_TRUE(c.stderr_until("joined the fleet", seen, seconds(60))) << seen;
  ASSERT_TRUE(wait_for([&] { return held() == "2,2"; }, seconds(60))) << held();

  // A clean stop hands b's two back at once: c holds all four well before a lease could expire
  // on its own, and b's log says what it gave back.
  b.signal(SIGINT);
  EXPECT_EQ(b.wait(seconds(60)), 0);
  EXPECT_NE(b.rest_of_stderr().find("handed back bat-"), std::string::npos);
  ASSERT_TRUE(wait_for([&] { return held() == "4"; }, seconds(60))) << held();
  after = now_ms();
  ASSERT_TRUE(wait_for([&] { return fresh(after) == "4"; }, seconds(60))) << fresh(after);

  // The database gone: c cannot renew, and before its leases could run out (another worker
  // could take them then) it stops polling all four. Back, it takes them again.
  server_->stop();
  ASSERT_TRUE(c.stderr_until("stopped polling bat-1, bat-2, bat-3, bat-4", seen, seconds(60)))
      << seen;
  server_->start();
  ASSERT_EQ(server_->error(), "");
  ASSERT_TRUE(c.stderr_until("took bat-1, bat-2, bat-3, bat-4", seen, seconds(60))) << seen;
  EXPECT_NE(seen.find("the fleet's database answers again"), std::string::npos) << seen;
  after = now_ms();
  ASSERT_TRUE(wait_for([&] { return fresh(after) == "4"; }, seconds(60))) << fresh(after);

  // Every sample once: replays and takeovers never duplicate one.
  EXPECT_EQ(value("SELECT count(*) FROM (SELECT series_id, t FROM samples GROUP BY 1, 2 "
                  "HAVING count(*) > 1) d"),
            "0");
  c.signal(SIGINT);
  EXPECT_EQ(c.wait(seconds(60)), 0);
  EXPECT_EQ(held(), "");
  std::filesystem::remove_all(dir);
}

// The queue a command for another worker's connection waits in: queuing wakes a listening
// worker at once (NOTIFY), the holder takes only its connections' commands and each once, the
// outcome (audit row or error) is read back; a command nobody took can be withdrawn, one taken
// cannot; a dead holder's running commands become interrupted when its connection is taken.
TEST_F(PgFleet, FleetCommandsWaitForTheHolderWhoTakesEachOnce) {
  { ASSERT_TRUE(open()); }
  ASSERT_EQ(server_->sql(db_, "INSERT INTO sites VALUES ('s', 'S', 0, 0, 'UTC')"), "");
  auto holder = open_fleet(url_);
  ASSERT_TRUE(holder) << holder.error().message;
  auto front = open_fleet(url_);  // the worker whose API took the request
  ASSERT_TRUE(front);
  auto& h = **holder;
  auto& f = **front;
  for (const char* c : {"c1", "c2"})
    ASSERT_TRUE(h.put_connection({c, "s", "sonnen", "", "v1:x", {}}));
  // The first wait sets up LISTEN and says "look now"; then nothing is queued.
  ASSERT_TRUE(*h.wait_for_commands(milliseconds(10)));
  EXPECT_FALSE(*h.wait_for_commands(milliseconds(50)));

  Command c;
  c.device = "c1:battery";
  c.type = CommandType::BatteryPower;
  c.value = -1800;
  c.duration = seconds(900);
  c.requested_by = "api:127.0.0.1";
  auto id = f.queue_command("c1", c);
  ASSERT_TRUE(id) << id.error().message;
  auto other = f.queue_command("c2", c);
  ASSERT_TRUE(other);
  // Woken by the notification, well before this limit.
  auto woke = h.wait_for_commands(seconds(60));
  ASSERT_TRUE(woke) << woke.error().message;
  EXPECT_TRUE(*woke);
  auto taken = h.take_commands("w1", {"c1"});
  ASSERT_TRUE(taken) << taken.error().message;
  ASSERT_EQ(taken->size(), 1u);
  const auto& t = taken->front();
  EXPECT_EQ(t.id, *id);
  EXPECT_EQ(t.command.device, "c1:battery");
  EXPECT_EQ(t.command.type, CommandType::BatteryPower);
  EXPECT_EQ(t.command.value, -1800);
  EXPECT_EQ(t.command.duration, seconds(900));
  EXPECT_EQ(t.command.requested_by, "api:127.0.0.1");
  EXPECT_EQ(t.status, "running");
  EXPECT_TRUE(h.take_commands("w2", {"c1"})->empty());  // once
  EXPECT_FALSE(*f.withdraw_command(*id));               // taken: it runs to its end
  ASSERT_TRUE(h.finish_command(*id, 42, std::nullopt));
  auto done = f.command(*id);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, "done");
  EXPECT_EQ(done->audit_id, 42);

  // c2's command: nobody took it, so it can be withdrawn, and then nobody takes it.
  EXPECT_TRUE(*f.withdraw_command(*other));
  EXPECT_EQ(f.command(*other)->status, "withdrawn");
  EXPECT_TRUE(h.take_commands("w1", {"c2"})->empty());

  // A refusal comes back with its kind, for the caller's status code.
  auto bad = f.queue_command("c2", c);
  ASSERT_TRUE(bad);
  ASSERT_EQ(h.take_commands("w1", {"c2"})->size(), 1u);
  ASSERT_TRUE(h.finish_command(*bad, std::nullopt,
                               Error{ErrorKind::InvalidArgument, "outside c1:battery's range"}));
  auto refused = f.command(*bad);
  EXPECT_EQ(refused->status, "failed");
  EXPECT_EQ(parse_error_kind(refused->error_kind), ErrorKind::InvalidArgument);
  EXPECT_EQ(refused->error, "outside c1:battery's range");

  // The holder dies mid-command: whoever takes c2 over marks it interrupted.
  auto cut = f.queue_command("c2", c);
  ASSERT_EQ(h.take_commands("w1", {"c2"})->size(), 1u);
  EXPECT_EQ(*f.interrupt_commands({"c2"}), 1);
  EXPECT_EQ(f.command(*cut)->status, "interrupted");
  EXPECT_EQ(f.command(999999).error().kind, ErrorKind::NotFound);
}

// A command reaches a device through any worker's API: the worker that does not poll it
// queues it, the holder runs, reads back and audits it, and the caller gets the audit row (or
// the holder's refusal with its status code). A connection no worker can hold gets an answer
// within a lease, and nothing is sent.
TEST_F(PgFleet, AnyWorkerShowsTheWholeFleetAndRunsItsCommandsOnTheHolder) {
  auto dir = test::temp_dir("pg-commands");
  std::ofstream(dir / "fleet.key") << std::string(64, 'd') << "\n";
  std::ofstream(dir / "other.key") << std::string(64, 'e') << "\n";
  test::Process sim({kBin, "simulate", "sonnen", "--listen", "127.0.0.1:0", "--devices", "2",
                     "--token", "tok-fleet"});
  auto ports = device_ports(sim, 2);
  ASSERT_EQ(ports.size(), 2u);
  auto csv = [&](const std::string& name, const std::string& rows) {
    auto p = dir / name;
    std::ofstream(p) << "site,timezone,name,vendor,host,port,poll_interval,token\n" << rows;
    return p.string();
  };
  auto config = [&](const std::string& name, const std::string& key, std::uint16_t port) {
    auto p = dir / (name + ".yaml");
    std::ofstream(p) << "gateway:\n  database: " << url_ << "\n  listen: 127.0.0.1:" << port
                     << "\n  api_token: tok-api-0123456789abcdef\nfleet:\n  key_file: "
                     << (dir / key).string() << "\n  lease: 3s\n";
    return p.string();
  };
  std::string rows;
  for (int i = 0; i < 2; ++i)
    rows += "north,Europe/Berlin,bat-" + std::to_string(i + 1) + ",sonnen,127.0.0.1," + ports[i] +
            ",1s,tok-fleet\n";
  test::Process imp(
      {kBin, "fleet", "-c", config("import", "fleet.key", 0), "import", csv("fleet.csv", rows)});
  ASSERT_EQ(imp.wait(seconds(60)), 0) << imp.rest_of_stderr();

  auto wait_for = [&](auto done, seconds limit) {
    auto deadline = steady_clock::now() + limit;
    while (!done() && steady_clock::now() < deadline)
      std::this_thread::sleep_for(milliseconds(200));
    return done();
  };
  std::uint16_t port_a = test::free_port(), port_b = test::free_port();
  test::Process a({kBin, "run", "-c", config("a", "fleet.key", port_a)});
  std::string seen;
  ASSERT_TRUE(a.stderr_until("joined the fleet", seen, seconds(60))) << seen;
  test::Process b({kBin, "run", "-c", config("b", "fleet.key", port_b)});
  ASSERT_TRUE(b.stderr_until("joined the fleet", seen, seconds(60))) << seen;
  ASSERT_TRUE(wait_for(
      [&] {
        return value(
                   "SELECT count(DISTINCT worker) FROM fleet_leases WHERE expires_at > "
                   "(extract(epoch FROM clock_timestamp()) * 1000)::bigint") == "2";
      },
      seconds(60)));
  // Both batteries discovered and polled by their holders.
  ASSERT_TRUE(wait_for(
      [&] {
        return value(
                   "SELECT count(DISTINCT device_id) FROM series s JOIN samples x ON "
                   "x.series_id = s.id") == "2";
      },
      seconds(60)));
  auto holder = value("SELECT worker FROM fleet_leases WHERE connection = 'bat-1'");
  auto front_api = value("SELECT api FROM fleet_workers WHERE id <> '" + holder + "'");
  ASSERT_NE(front_api.rfind(':'), std::string::npos) << front_api;
  test::Http front(
      static_cast<std::uint16_t>(std::stoi(front_api.substr(front_api.rfind(':') + 1))));
  const net::Headers auth{{"Content-Type", "application/json"},
                          {"Authorization", "Bearer tok-api-0123456789abcdef"}};
  auto get = [&](const std::string& path) {
    auto r = front.call("GET", path);
    return r ? *r : net::HttpResponse{};
  };

  // The front answers for the whole fleet: the holder's battery with its live values and the
  // commands it takes, each connection's health with the worker polling it.
  ASSERT_TRUE(wait_for(
      [&] {
        auto r = get("/api/v1/devices/bat-1:battery/live");
        return r.status == 200 && r.body.find("battery.soc") != std::string::npos;
      },
      seconds(60)))
      << get("/api/v1/devices/bat-1:battery/live").body;
  auto dev = get("/api/v1/devices/bat-1:battery");
  EXPECT_EQ(dev.status, 200) << dev.body;
  EXPECT_NE(dev.body.find(R"("name":"battery-power")"), std::string::npos) << dev.body;
  auto live = get("/api/v1/live");
  EXPECT_NE(live.body.find(R"("bat-1:battery")"), std::string::npos) << live.body;
  EXPECT_NE(live.body.find(R"("bat-2:battery")"), std::string::npos) << live.body;
  auto health = net::parse_json_object(get("/api/v1/health").body, "health");
  ASSERT_TRUE(health);
  std::map<std::string, std::string> worker_of;
  for (const auto& c : (*health)["connections"].as_array())
    worker_of[std::string(c.at("name").as_string())] =
        c.at("worker").is_string() ? std::string(c.at("worker").as_string()) : "-";
  EXPECT_EQ(worker_of["bat-1"], holder);
  EXPECT_EQ(worker_of["bat-2"],
            value("SELECT worker FROM fleet_leases WHERE connection = 'bat-2'"));
  EXPECT_NE(worker_of["bat-1"], worker_of["bat-2"]);
  // The fleet page's rows: the one site, both workers polling it, its battery power summed.
  auto sites = net::parse_json_object(get("/api/v1/fleet/sites?sort=pv&order=desc").body, "sites");
  ASSERT_TRUE(sites);
  EXPECT_EQ((*sites)["total"].to_number<int>(), 1);
  const auto& north = (*sites)["sites"].as_array().at(0).as_object();
  EXPECT_EQ(north.at("site").as_string(), "north");
  EXPECT_EQ(north.at("devices").to_number<int>(), 2);
  EXPECT_EQ(north.at("workers").as_array().size(), 2u);
  EXPECT_TRUE(north.at("battery_w").is_number()) << serialize(north);
  EXPECT_EQ(get("/api/v1/fleet/sites?sort=colour").status, 400);
  auto page = get("/fleet");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("/static/fleet.js"), std::string::npos);

  auto cmd = front.call("POST", "/api/v1/devices/bat-1:battery/commands",
                        R"({"command":"battery-power","value":-1800})", auth);
  ASSERT_TRUE(cmd) << cmd.error().message;
  ASSERT_EQ(cmd->status, 200) << cmd->body;
  auto rec = net::parse_json_object(cmd->body, "command");
  ASSERT_TRUE(rec);
  EXPECT_EQ((*rec)["status"].as_string(), "verified");
  EXPECT_EQ((*rec)["after"].to_number<double>(), -1800);
  EXPECT_EQ((*rec)["device"].as_string(), "bat-1:battery");
  auto audit = std::to_string((*rec)["id"].to_number<std::int64_t>());
  // Run by the holder, once, and audited there with the caller's address.
  EXPECT_EQ(value("SELECT worker || ' ' || status || ' ' || audit_id FROM fleet_commands"),
            holder + " done " + audit);
  EXPECT_EQ(value("SELECT requested_by || ' ' || status FROM commands WHERE id = " + audit),
            "api:127.0.0.1 verified");

  // The settings of the holder's battery, read by the holder for the front: as last read, then
  // from the device itself; the front's answer is the holder's read, and the row says who read.
  auto settings = [&](const std::string& query) {
    auto r = get("/api/v1/devices/bat-1:battery/settings" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    auto o = net::parse_json_object(r.body, "settings");
    return o ? *o : boost::json::object{};
  };
  auto kept = settings("");
  EXPECT_EQ(kept["device"].as_string(), "bat-1:battery");
  ASSERT_TRUE(kept["settings"].as_object().contains("min-soc")) << serialize(kept);
  EXPECT_TRUE(kept["settings"].at("min-soc").at("value").is_number()) << serialize(kept);
  EXPECT_FALSE(kept["settings"].at("battery-strategy").at("argument").as_string().empty());
  auto fresh = settings("?refresh=true");
  EXPECT_NE(fresh["read_at"], kept["read_at"]) << serialize(fresh);
  EXPECT_EQ(value("SELECT string_agg(worker || ' ' || status || ' ' || value, ', ' ORDER BY id) "
                  "FROM fleet_commands WHERE command = 'read-settings'"),
            holder + " done 0, " + holder + " done 1");
  EXPECT_EQ(get("/api/v1/devices/bat-1:battery/settings?refresh=maybe").status, 400);
  EXPECT_EQ(get("/api/v1/devices/nope:battery/settings").status, 404);

  // /metrics are the front's own: its battery, not the holder's, and its share of the fleet's
  // work (the lease it holds, the command it forwarded). promtool takes them.
  auto front_id = value("SELECT id FROM fleet_workers WHERE id <> '" + holder + "'");
  auto metrics = get("/metrics");
  EXPECT_EQ(metrics.body.find(R"(device="bat-1:battery")"), std::string::npos);
  EXPECT_NE(metrics.body.find(R"(device="bat-2:battery")"), std::string::npos);
  for (const auto& series :
       {"sunbridge_fleet_leases_held{worker=\"" + front_id + "\"} 1",
        "sunbridge_fleet_connections{worker=\"" + front_id + "\"} 2",
        "sunbridge_fleet_commands_total{worker=\"" + front_id + "\",outcome=\"forwarded\"} 1",
        "sunbridge_fleet_commands_total{worker=\"" + front_id + "\",outcome=\"run\"} 0"})
    EXPECT_NE(metrics.body.find(series), std::string::npos) << series << "\n" << metrics.body;
  std::ofstream(dir / "metrics.txt") << metrics.body;
  test::Process promtool(
      {"/bin/sh", "-c", "promtool check metrics < " + (dir / "metrics.txt").string()});
  EXPECT_EQ(promtool.wait(seconds(60)), 0)
      << promtool.rest_of_stdout() << promtool.rest_of_stderr();

  // The fleet's connections through the API: listed with their holders and no secret; added
  // from CSV (checked like `fleet import`, with the token) and removed.
  auto conns = get("/api/v1/fleet/connections");
  EXPECT_EQ(conns.status, 200);
  EXPECT_NE(
      conns.body.find(
          R"("name":"bat-1","vendor":"sonnen","site":"north","account":"","host":"127.0.0.1","opens":true,"worker":")" +
          holder + "\""),
      std::string::npos)
      << conns.body;
  EXPECT_EQ(conns.body.find("tok-fleet"), std::string::npos);
  const std::string row = "site,name,vendor,host,port,token\nnorth,bat-9,sonnen,127.0.0.1,1,t9\n";
  auto anonymous = front.call("POST", "/api/v1/fleet/connections", row);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  const net::Headers csv_auth{{"Content-Type", "text/csv"},
                              {"Authorization", "Bearer tok-api-0123456789abcdef"}};
  auto wrong = front.call("POST", "/api/v1/fleet/connections",
                          "site,name,vendor\nnorth,bat 9,sonnen\n", csv_auth);
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400) << wrong->body;
  EXPECT_NE(wrong->body.find("request body:2:"), std::string::npos) << wrong->body;
  auto added = front.call("POST", "/api/v1/fleet/connections", row, csv_auth);
  ASSERT_TRUE(added);
  EXPECT_EQ(added->status, 200) << added->body;
  EXPECT_EQ(value("SELECT count(*) FROM fleet_connections WHERE name = 'bat-9'"), "1");
  auto removed = front.call("DELETE", "/api/v1/fleet/connections/bat-9", "", csv_auth);
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->status, 200) << removed->body;
  auto again = front.call("DELETE", "/api/v1/fleet/connections/bat-9", "", csv_auth);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 404) << again->body;

  // The holder's refusal comes back with its status code and message.
  auto bad = front.call("POST", "/api/v1/devices/bat-1:battery/commands",
                        R"({"command":"battery-power","value":99999})", auth);
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;
  EXPECT_NE(bad->body.find("outside bat-1:battery's range"), std::string::npos) << bad->body;
  auto unknown = front.call("POST", "/api/v1/devices/nope:battery/commands",
                            R"({"command":"battery-power","value":100})", auth);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404) << unknown->body;

  // A connection sealed with another key: no worker can open it, so none holds it. Its command
  // is withdrawn after a lease, and the caller is told so.
  test::Process other({kBin, "fleet", "-c", config("other", "other.key", 0), "import",
                       csv("other.csv", "north,,bat-x,sonnen,127.0.0.1,1,1s,tok-fleet\n")});
  ASSERT_EQ(other.wait(seconds(60)), 0) << other.rest_of_stderr();
  ASSERT_TRUE(wait_for(
      [&] {
        return get("/api/v1/health")
                   .body.find(
                       R"("name":"bat-x","site":"north","vendor":"sonnen","state":"unheld")") !=
               std::string::npos;
      },
      seconds(60)))
      << get("/api/v1/health").body;
  EXPECT_NE(get("/api/v1/fleet/sites?state=unheld").body.find(R"("site":"north")"),
            std::string::npos);
  auto lost = front.call("POST", "/api/v1/devices/bat-x:battery/commands",
                         R"({"command":"battery-power","value":100})", auth);
  ASSERT_TRUE(lost) << lost.error().message;
  EXPECT_EQ(lost->status, 504) << lost->body;
  EXPECT_NE(lost->body.find("no live worker holds connection bat-x"), std::string::npos)
      << lost->body;
  EXPECT_EQ(value("SELECT status FROM fleet_commands WHERE connection = 'bat-x'"), "withdrawn");
  auto unread = get("/api/v1/devices/bat-x:battery/settings");
  EXPECT_EQ(unread.status, 504) << unread.body;
  EXPECT_NE(unread.body.find("no worker took the settings read of bat-x:battery"),
            std::string::npos)
      << unread.body;

  // A command that holds for a while outlives its holder's clean stop: the lease goes with the
  // connection to the other worker, which ends it when asked (or when its time is up).
  auto held = front.call("POST", "/api/v1/devices/bat-1:battery/commands",
                         R"({"command":"battery-power","value":-1500,"duration_s":600})", auth);
  ASSERT_TRUE(held);
  ASSERT_EQ(held->status, 200) << held->body;
  EXPECT_EQ(value("SELECT state FROM leases"), "active");
  auto& holder_process =
      holder.find(":" + std::to_string(a.pid()) + ":") != std::string::npos ? a : b;
  auto& front_process = &holder_process == &a ? b : a;
  holder_process.signal(SIGINT);
  EXPECT_EQ(holder_process.wait(seconds(60)), 0);
  ASSERT_TRUE(wait_for(
      [&] { return value("SELECT count(*) FROM events WHERE code = 'lease.taken_over'") == "1"; },
      seconds(60)));
  EXPECT_EQ(value("SELECT state FROM leases"), "active");  // not handed back by the stop
  auto release = front.call("POST", "/api/v1/devices/bat-1:battery/commands",
                            R"({"command":"release"})", auth);
  ASSERT_TRUE(release);
  ASSERT_EQ(release->status, 200) << release->body;
  EXPECT_EQ(value("SELECT state || ': ' || left(detail, 42) FROM leases"),
            "released: ended early by api:127.0.0.1; handed back:");

  // The fleet's last worker stopping hands its leases back: nobody would end them otherwise.
  auto last = front.call("POST", "/api/v1/devices/bat-2:battery/commands",
                         R"({"command":"battery-power","value":-1000,"duration_s":600})", auth);
  ASSERT_TRUE(last);
  ASSERT_EQ(last->status, 200) << last->body;
  front_process.signal(SIGINT);
  EXPECT_EQ(front_process.wait(seconds(60)), 0);
  EXPECT_EQ(value("SELECT state || ': ' || left(detail, 17) FROM leases WHERE device_id = "
                  "'bat-2:battery'"),
            "released: sunbridge stopped");
  std::filesystem::remove_all(dir);
}

// A vendor account's budget across workers: slices reserved at the same moment from two
// connections never pass the window's limit (the largest limit any gave), every call of it is
// handed out, each window counts on its own, and the sharers are counted.
TEST_F(PgFleet, AnAccountsBudgetIsReservedInSlicesNeverPastItsLimit) {
  { ASSERT_TRUE(open()); }
  auto one = open_fleet(url_);
  auto two = open_fleet(url_);
  ASSERT_TRUE(one && two);
  auto drain = [](Fleet& f, const std::string& conn) {
    int got = 0;
    for (;;) {
      auto r = f.reserve_calls("acct-9", "day:20625", conn, 7, 1000);
      if (!r) return -1;
      if (r->granted == 0) return got;
      EXPECT_LE(r->used, 1000);
      got += r->granted;
    }
  };
  auto a = std::async(std::launch::async, [&] { return drain(**one, "foxess-1"); });
  auto b = std::async(std::launch::async, [&] { return drain(**two, "foxess-2"); });
  int got_a = a.get(), got_b = b.get();
  ASSERT_GE(got_a, 0);
  ASSERT_GE(got_b, 0);
  EXPECT_EQ(got_a + got_b, 1000);
  EXPECT_GT(got_a, 0);
  EXPECT_GT(got_b, 0);
  auto last = (*one)->reserve_calls("acct-9", "day:20625", "foxess-1", 7, 1000);
  ASSERT_TRUE(last) << last.error().message;
  EXPECT_EQ(last->granted, 0);
  EXPECT_EQ(last->used, 1000);
  EXPECT_EQ(last->sharers, 2);
  // A connection that knows a larger limit (an inverter more) raises it; the next day and
  // another account count apart.
  auto more = (*two)->reserve_calls("acct-9", "day:20625", "foxess-3", 7, 1003);
  ASSERT_TRUE(more);
  EXPECT_EQ(more->granted, 3);
  EXPECT_EQ(more->sharers, 3);
  EXPECT_EQ((*one)->reserve_calls("acct-9", "day:20626", "foxess-1", 7, 1000)->granted, 7);
  EXPECT_EQ((*one)->reserve_calls("acct-10", "day:20625", "foxess-1", 7, 1000)->granted, 7);
  EXPECT_EQ(value("SELECT sum(used) FROM fleet_budgets"), "1017");
}

// Connections of one vendor account held in a fleet take their calls from the account's budget
// in PostgreSQL: two FoxESS connections of one account both reserve from the same day's row
// (never past its limit), both are polled, and their calls of one interface keep the cloud's
// pace between them.
TEST_F(PgFleet, FleetConnectionsOfOneAccountSpendOneBudget) {
  auto dir = test::temp_dir("pg-budget");
  std::ofstream(dir / "fleet.key") << std::string(64, 'f') << "\n";
  test::Process sim({kBin, "simulate", "foxess", "--listen", "127.0.0.1:0", "--devices", "1",
                     "--api-key", "key-fleet-0001"});
  auto l = sim.line(seconds(60));
  ASSERT_TRUE(l && l->rfind(':') != std::string::npos) << (l ? *l : "no line");
  auto port = l->substr(l->rfind(':') + 1);
  {
    std::ofstream f(dir / "fleet.csv");
    f << "site,timezone,name,vendor,host,port,tls,poll_interval,api_key,account\n";
    for (const char* name : {"fx-1", "fx-2"})
      f << "plant,Europe/Berlin," << name << ",foxess,127.0.0.1," << port
        << ",false,10s,key-fleet-0001,acct-fx\n";
  }
  auto cfg = dir / "fleet.yaml";
  std::ofstream(cfg) << "gateway:\n  database: " << url_
                     << "\n  listen: 127.0.0.1:0\nfleet:\n  key_file: "
                     << (dir / "fleet.key").string() << "\n  lease: 3s\n";
  test::Process imp({kBin, "fleet", "-c", cfg.string(), "import", (dir / "fleet.csv").string()});
  ASSERT_EQ(imp.wait(seconds(60)), 0) << imp.rest_of_stderr();
  test::Process worker({kBin, "run", "-c", cfg.string()});
  std::string seen;
  ASSERT_TRUE(worker.stderr_until("joined the fleet", seen, seconds(60))) << seen;
  auto deadline = steady_clock::now() + seconds(90);
  auto both = [&] {
    return value(
               "SELECT count(DISTINCT split_part(device_id, ':', 1)) FROM series s JOIN "
               "samples x ON x.series_id = s.id") == "2" &&
           value(
               "SELECT cardinality(users) FROM fleet_budgets WHERE account = 'acct-fx' AND "
               "win LIKE 'day:%'") == "2";
  };
  while (!both() && steady_clock::now() < deadline) std::this_thread::sleep_for(milliseconds(200));
  if (!both()) {
    worker.signal(SIGINT);
    worker.wait(seconds(60));
  }
  ASSERT_TRUE(both()) << worker.rest_of_stderr()
                      << value(
                             "SELECT string_agg(win || ' ' || used || '/' || limit_calls || ' ' "
                             "|| array_to_string(users, ','), '; ') FROM fleet_budgets");
  // One row for the account's day: the inverter's 1,440 calls, shared; each connection holds
  // at most a slice of them unused.
  EXPECT_EQ(value("SELECT count(*) || ' ' || max(limit_calls) FROM fleet_budgets WHERE account = "
                  "'acct-fx' AND win LIKE 'day:%'"),
            "1 1440");
  auto used = std::stoi(value("SELECT used FROM fleet_budgets WHERE win LIKE 'day:%'"));
  EXPECT_GE(used, 2);
  EXPECT_LE(used, 1440);
  worker.signal(SIGINT);
  EXPECT_EQ(worker.wait(seconds(60)), 0);
  // Both connections call the same interfaces of one API key, from their first calls (the
  // device list) on: paced through the database, the cloud refused none of them.
  sim.signal(SIGINT);
  EXPECT_EQ(sim.wait(seconds(60)), 0);
  auto said = sim.rest_of_stdout();
  EXPECT_NE(said.find("calls refused for a vendor limit: 0\n"), std::string::npos) << said;
  std::filesystem::remove_all(dir);
}

// `sunbridge demo --fleet`: homes of the five vendors imported into the database and shared by
// the workers it starts; every site polled, any worker's page shows them all; Ctrl-C stops
// the workers too. Without a PostgreSQL database it says what to do.
TEST_F(PgFleet, TheFleetDemoSharesItsHomesBetweenItsWorkers) {
  test::Process sqlite({kBin, "demo", "--fleet", "--db", "demo.db"});
  EXPECT_EQ(sqlite.wait(seconds(60)), 1);
  EXPECT_NE(sqlite.rest_of_stderr().find("--fleet needs a PostgreSQL database"), std::string::npos);

  // Below the ephemeral range, where the demo's simulators (started first) listen.
  std::uint16_t port = static_cast<std::uint16_t>(25000 + ::getpid() % 5000);
  while (test::accepts(port) || test::accepts(port + 1)) port += 2;
  test::Process demo({kBin, "demo", "--fleet", "--db", url_, "--sites", "10", "--workers", "2",
                      "--listen", "127.0.0.1:" + std::to_string(port)});
  std::string out;
  while (auto l = demo.line(seconds(120))) {
    out += *l + "\n";
    if (l->find("Press Ctrl-C") != std::string::npos) break;
  }
  ASSERT_NE(out.find("10 sites (2 enphase, 2 foxess, 2 kostal, 2 solarlog, 2 sonnen), 2 workers"),
            std::string::npos)
      << out << demo.rest_of_stderr();
  test::Http second(static_cast<std::uint16_t>(port + 1));
  auto deadline = steady_clock::now() + seconds(120);
  std::string body;
  auto all_ok = [&] {
    auto r = second.call("GET", "/api/v1/fleet/sites?limit=100");
    body = r ? r->body : r.error().message;
    return r && r->status == 200 && body.find(R"("states":{"ok":10})") != std::string::npos;
  };
  // Shared once both run: the first worker up may hold (and poll) every home until the second
  // joins and takes its half, which can come after all ten are ok.
  auto workers = [&] {
    return value(
        "SELECT count(DISTINCT worker) FROM fleet_leases WHERE expires_at > "
        "(extract(epoch FROM clock_timestamp()) * 1000)::bigint");
  };
  while (!(all_ok() && workers() == "2") && steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(500));
  EXPECT_TRUE(all_ok()) << body;
  EXPECT_EQ(workers(), "2");
  demo.signal(SIGINT);
  EXPECT_EQ(demo.wait(seconds(60)), 0);
  EXPECT_NE(demo.rest_of_stdout().find("stopped"), std::string::npos);
  EXPECT_EQ(value("SELECT count(*) FROM fleet_workers"), "0");  // both left cleanly
}
