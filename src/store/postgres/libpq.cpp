#include "store/postgres/libpq.hpp"

#include <dlfcn.h>

#include <mutex>
#include <optional>
#include <string>

namespace sb::store::postgres {

namespace {

// The library's name in its ABI version; libpq-dev's unversioned link is not on a server.
constexpr const char* kLibrary = "libpq.so.5";

// Sets `slot` to the library's `name`; the first name missing is kept in `missing`.
template <class F>
void resolve(void* lib, F& slot, const char* name, std::string& missing) {
  slot = reinterpret_cast<F>(::dlsym(lib, name));
  if (!slot && missing.empty()) missing = name;
}

std::optional<Error> load_once() {
  void* lib = ::dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = ::dlerror();
    return Error{ErrorKind::Internal, std::string("a postgresql:// database needs ") + kLibrary +
                                          " (Debian package libpq5), which did not load: " +
                                          (why ? why : "unknown reason")};
  }
  std::string missing;
  resolve(lib, PQconnectdb, "PQconnectdb", missing);
  resolve(lib, PQfinish, "PQfinish", missing);
  resolve(lib, PQreset, "PQreset", missing);
  resolve(lib, PQstatus, "PQstatus", missing);
  resolve(lib, PQsocket, "PQsocket", missing);
  resolve(lib, PQerrorMessage, "PQerrorMessage", missing);
  resolve(lib, PQsetNoticeProcessor, "PQsetNoticeProcessor", missing);
  resolve(lib, PQconninfoParse, "PQconninfoParse", missing);
  resolve(lib, PQconninfoFree, "PQconninfoFree", missing);
  resolve(lib, PQexec, "PQexec", missing);
  resolve(lib, PQexecParams, "PQexecParams", missing);
  resolve(lib, PQgetResult, "PQgetResult", missing);
  resolve(lib, PQresultStatus, "PQresultStatus", missing);
  resolve(lib, PQresultErrorMessage, "PQresultErrorMessage", missing);
  resolve(lib, PQresultErrorField, "PQresultErrorField", missing);
  resolve(lib, PQntuples, "PQntuples", missing);
  resolve(lib, PQgetvalue, "PQgetvalue", missing);
  resolve(lib, PQgetlength, "PQgetlength", missing);
  resolve(lib, PQgetisnull, "PQgetisnull", missing);
  resolve(lib, PQcmdTuples, "PQcmdTuples", missing);
  resolve(lib, PQclear, "PQclear", missing);
  resolve(lib, PQfreemem, "PQfreemem", missing);
  resolve(lib, PQputCopyData, "PQputCopyData", missing);
  resolve(lib, PQputCopyEnd, "PQputCopyEnd", missing);
  resolve(lib, PQconsumeInput, "PQconsumeInput", missing);
  resolve(lib, PQnotifies, "PQnotifies", missing);
  if (!missing.empty())
    return Error{ErrorKind::Internal,
                 std::string(kLibrary) + " has no " + missing + ": a libpq older than 10?"};
  return std::nullopt;  // the library stays loaded for the life of the process
}

}  // namespace

Result<void> load_libpq() {
  static std::once_flag once;
  static std::optional<Error> failed;
  std::call_once(once, [] { failed = load_once(); });
  if (failed) return fail(*failed);
  return {};
}

}  // namespace sb::store::postgres
