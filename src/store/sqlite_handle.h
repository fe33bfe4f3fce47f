// SPDX-License-Identifier: MIT
// Thin RAII wrappers over the SQLite C API: a connection, a prepared statement and a transaction.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace relustab::store::detail {

/// Throws for a failed SQLite call: InputError (naming `path`) when the file itself is at fault (not a
/// database, corrupt, unreadable, read-only), std::runtime_error otherwise. Messages read
/// "PATH: WHAT: <sqlite message>".
[[noreturn]] void throw_sqlite_error(const std::string& path, int code, std::string_view what,
                                     sqlite3* db);

/// One open connection. Move-only.
class Connection {
 public:
  /// Opens `path` with sqlite3_open_v2 `flags`; throws (see throw_sqlite_error) on failure.
  Connection(const std::string& path, int flags);

  struct ReadOnly {};
  /// Opens `path` for reading only, with no write access needed to the file or its directory (`status`
  /// and `export` of a results directory the user may not write): read-only mode first; where SQLite
  /// cannot set up a WAL database's shared index there (no -shm file and no right to create one), as
  /// an immutable file. Refuses (InputError) a database whose -wal file still holds pages then, since
  /// an immutable read would not see them.
  Connection(ReadOnly, const std::string& path);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }
  /// Runs one or more statements that return no rows.
  void exec(const char* sql);
  [[noreturn]] void fail(int code, std::string_view what) const { throw_sqlite_error(path_, code, what, db_); }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

/// A prepared statement with positional binds (1-based, as in SQLite) and typed column reads.
class Statement {
 public:
  Statement(Connection& connection, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind_null(int index);
  /// Binds column `column` of `source`'s current row, keeping its storage class (integer, real,
  /// text, blob or null): copies values between databases without conversion.
  Statement& bind_column(int index, const Statement& source, int column);
  /// Steps once: true when a row is available, false when the statement is done.
  bool step();
  /// Steps a statement that returns no rows, then resets it for the next binds.
  void run();
  void reset();

  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  int column_type(int column) const { return sqlite3_column_type(stmt_, column); }
  std::int64_t column_int(int column) const { return sqlite3_column_int64(stmt_, column); }
  double column_double(int column) const { return sqlite3_column_double(stmt_, column); }
  std::string column_text(int column) const;

 private:
  Connection& connection_;
  sqlite3_stmt* stmt_ = nullptr;
};

/// BEGIN IMMEDIATE (the write lock up front, so a transaction never fails half-way on a lock
/// upgrade) ... COMMIT; rolled back by the destructor unless committed.
class Transaction {
 public:
  explicit Transaction(Connection& connection, const char* begin = "BEGIN IMMEDIATE");
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Connection& connection_;
  bool open_ = true;
};

}  // namespace relustab::store::detail
