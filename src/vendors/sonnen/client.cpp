#include "vendors/sonnen/client.hpp"

namespace sb::sonnen {

Error error_from_reply(const net::HttpResponse& r, std::string_view what) {
  auto code = parse_return_code(r.body);
  std::string detail = std::string(what) + ": HTTP " + std::to_string(r.status);
  if (code) detail += " (ReturnCode " + std::to_string(*code) + ")";
  Error e{ErrorKind::Protocol, detail};
  e.vendor_code = code.value_or(0);
  if (r.status == 404) {
    e.kind = ErrorKind::NotFound;
    e.message += ": invalid request path";
  } else if (r.status == 405) {
    e.message += ": invalid HTTP method";
  } else if (r.status == 400) {
    e.kind = ErrorKind::InvalidArgument;
    e.message += ": request rejected";
  } else if (r.status == 401 || r.status == 403) {
    e.kind = ErrorKind::Auth;
    e.message += ": access refused";
  } else if (r.status >= 500) {
    e.kind = ErrorKind::Transport;  // the device's internal error (13) passes: retry later
    e.message += ": internal error on the device";
  }
  return e;
}

asio::awaitable<Result<net::HttpResponse>> Client::call(std::string method, std::string target) {
  net::HttpRequest req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.headers.emplace_back("Accept", "*/*");
  req.timeout = timeout_;
  auto op = http_.request(endpoint_, std::move(req));
  co_return co_await std::move(op);
}

asio::awaitable<Result<StatusV1>> Client::status() {
  auto op = call("GET", "/api/v1/status");
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), "sonnen status"));
  if (r->status != 200) co_return fail(error_from_reply(*r, "sonnen status"));
  co_return parse_status(r->body);
}

asio::awaitable<Result<void>> Client::setpoint(std::string direction, int watts) {
  const std::string what = "sonnen " + direction + " setpoint";
  if (watts < 0) co_return fail(ErrorKind::InvalidArgument, what + " must be >= 0 W");
  auto op = call("PUT", "/api/v1/setpoint/" + direction + "/" + std::to_string(watts));
  auto r = co_await std::move(op);
  if (!r) co_return fail(with_context(r.error(), what));
  if (r->status != 200) co_return fail(error_from_reply(*r, what));
  // A 200 whose body carries a non-zero ReturnCode is a refusal all the same.
  if (auto code = parse_return_code(r->body); code && *code != 0)
    co_return fail(error_from_reply(*r, what));
  co_return Result<void>{};
}

asio::awaitable<Result<void>> Client::set_charge(int watts) {
  auto op = setpoint("charge", watts);
  co_return co_await std::move(op);
}

asio::awaitable<Result<void>> Client::set_discharge(int watts) {
  auto op = setpoint("discharge", watts);
  co_return co_await std::move(op);
}

asio::awaitable<Result<void>> Client::set_battery_power(int watts) {
  auto op = watts >= 0 ? setpoint("discharge", watts) : setpoint("charge", -watts);
  co_return co_await std::move(op);
}

}  // namespace sb::sonnen
