#pragma once
// libpq, loaded with dlopen when a postgresql:// database is first named, so that a home on
// SQLite never maps it nor the two dozen libraries it brings (GnuTLS, Kerberos, LDAP, ...):
// about 2.5 MB of a home's memory (docs/scale.md).
//
// The PostgreSQL store's code calls libpq by its own names: each is declared below, in the
// store's namespace, as a pointer to the function of the same name, and so hides the global
// one for every call made inside `sb::store::postgres`. The pointers are set by load_libpq()
// and are null before it has succeeded; every way into the store (open_postgres, the fleet's
// functions, postgres_problem) calls it first. The sunbridge binary does not link libpq, so a
// call that misses this table fails at link time, not at run time.
#include <libpq-fe.h>

#include "core/result.hpp"

namespace sb::store::postgres {

/// Loads libpq.so.5 once and resolves the functions below; later calls return the first
/// call's outcome. The error names the library, the Debian package and what dlopen said.
Result<void> load_libpq();

inline decltype(&::PQconnectdb) PQconnectdb = nullptr;
inline decltype(&::PQfinish) PQfinish = nullptr;
inline decltype(&::PQreset) PQreset = nullptr;
inline decltype(&::PQstatus) PQstatus = nullptr;
inline decltype(&::PQsocket) PQsocket = nullptr;
inline decltype(&::PQerrorMessage) PQerrorMessage = nullptr;
inline decltype(&::PQsetNoticeProcessor) PQsetNoticeProcessor = nullptr;
inline decltype(&::PQconninfoParse) PQconninfoParse = nullptr;
inline decltype(&::PQconninfoFree) PQconninfoFree = nullptr;
inline decltype(&::PQexec) PQexec = nullptr;
inline decltype(&::PQexecParams) PQexecParams = nullptr;
inline decltype(&::PQgetResult) PQgetResult = nullptr;
inline decltype(&::PQresultStatus) PQresultStatus = nullptr;
inline decltype(&::PQresultErrorMessage) PQresultErrorMessage = nullptr;
inline decltype(&::PQresultErrorField) PQresultErrorField = nullptr;
inline decltype(&::PQntuples) PQntuples = nullptr;
inline decltype(&::PQgetvalue) PQgetvalue = nullptr;
inline decltype(&::PQgetlength) PQgetlength = nullptr;
inline decltype(&::PQgetisnull) PQgetisnull = nullptr;
inline decltype(&::PQcmdTuples) PQcmdTuples = nullptr;
inline decltype(&::PQclear) PQclear = nullptr;
inline decltype(&::PQfreemem) PQfreemem = nullptr;
inline decltype(&::PQputCopyData) PQputCopyData = nullptr;
inline decltype(&::PQputCopyEnd) PQputCopyEnd = nullptr;
inline decltype(&::PQconsumeInput) PQconsumeInput = nullptr;
inline decltype(&::PQnotifies) PQnotifies = nullptr;

}  // namespace sb::store::postgres
