// SPDX-License-Identifier: MIT
// RAII wrappers over the SQLite C API used by the results store.
#include "store/sqlite_handle.h"

#include <relustab/core/error.h>

#include <filesystem>
#include <stdexcept>
#include <system_error>

namespace relustab::store::detail {

void throw_sqlite_error(const std::string& path, int code, std::string_view what, sqlite3* db) {
  std::string message = path + ": " + std::string(what) + ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  switch (code & 0xff) {  // the primary result code, without the extended bits
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      throw InputError(message);
    default:
      throw std::runtime_error(message);
  }
}

namespace {

/// A file: URI for `path` with one query parameter; %, ? and # in the path are percent-encoded.
std::string file_uri(const std::string& path, const char* parameter) {
  std::string uri = "file:";
  for (const char c : path) {
    if (c == '%') uri += "%25";
    else if (c == '?') uri += "%3f";
    else if (c == '#') uri += "%23";
    else uri += c;
  }
  return uri + "?" + parameter;
}

/// sqlite3_open_v2 of `filename` (a path or a file: URI) into `db`; throws naming `path` on failure.
void open_database(const std::string& path, const std::string& filename, int flags, sqlite3*& db) {
  const int rc = sqlite3_open_v2(filename.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    // The handle exists even on failure (unless out of memory) and holds the message.
    std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    db = nullptr;
    throw_sqlite_error(path, rc, "cannot open the database (" + message + ")", nullptr);
  }
  sqlite3_extended_result_codes(db, 1);
}

}  // namespace

Connection::Connection(const std::string& path, int flags) : path_(path) { open_database(path, path, flags, db_); }

Connection::Connection(ReadOnly, const std::string& path) : path_(path) {
  const auto open = [&](const char* parameter) {
    open_database(path, file_uri(path, parameter), SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, db_);
  };
  open("mode=ro");
  // The first read sets up WAL access; it is where a read-only directory shows.
  const int rc = sqlite3_exec(db_, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, nullptr);
  const int primary = rc & 0xff;
  // Success, or a fault of the file itself (not a database, corrupt), which the caller's first query
  // reports in its own words.
  if (primary != SQLITE_READONLY && primary != SQLITE_CANTOPEN && primary != SQLITE_PERM) return;
  sqlite3_close_v2(db_);
  db_ = nullptr;
  std::error_code ignored;
  const auto wal_size = std::filesystem::file_size(path + "-wal", ignored);
  if (!ignored && wal_size > 0) {
    throw InputError(path + ": cannot read the database without write access: its -wal file holds " +
                     std::to_string(wal_size) + " bytes not yet in the database file, which SQLite reads only "
                     "with write access to the directory (a writer still running, or killed); copy the "
                     "directory somewhere writable and read the copy");
  }
  open("immutable=1");
}

Connection::~Connection() { sqlite3_close_v2(db_); }

void Connection::exec(const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) fail(rc, std::string("cannot run \"") + sql + "\"");
}

Statement::Statement(Connection& connection, std::string_view sql) : connection_(connection) {
  const int rc = sqlite3_prepare_v3(connection.get(), sql.data(), static_cast<int>(sql.size()),
                                    0, &stmt_, nullptr);
  if (rc != SQLITE_OK) connection.fail(rc, "cannot prepare \"" + std::string(sql) + "\"");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) connection_.fail(rc, "cannot bind an integer");
  return *this;
}

Statement& Statement::bind(int index, double value) {
  const int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) connection_.fail(rc, "cannot bind a number");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies the text, so the caller's buffer may go away before step().
  const int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) connection_.fail(rc, "cannot bind a text");
  return *this;
}

Statement& Statement::bind_null(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) connection_.fail(rc, "cannot bind null");
  return *this;
}

Statement& Statement::bind_column(int index, const Statement& source, int column) {
  const int rc = sqlite3_bind_value(stmt_, index, sqlite3_column_value(source.stmt_, column));
  if (rc != SQLITE_OK) connection_.fail(rc, "cannot bind a copied value");
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  connection_.fail(rc, std::string("cannot run \"") + sqlite3_sql(stmt_) + "\"");
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string Statement::column_text(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  // column_bytes after column_text: the length of the UTF-8 form just produced.
  const int bytes = sqlite3_column_bytes(stmt_, column);
  return text != nullptr ? std::string(text, static_cast<std::size_t>(bytes)) : std::string();
}

Transaction::Transaction(Connection& connection, const char* begin) : connection_(connection) {
  connection_.exec(begin);
}

Transaction::~Transaction() {
  if (open_) sqlite3_exec(connection_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  connection_.exec("COMMIT");
  open_ = false;
}

}  // namespace relustab::store::detail
