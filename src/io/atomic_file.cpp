// SPDX-License-Identifier: MIT
#include <relustab/io/atomic_file.h>

#include <relustab/core/error.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

namespace relustab::io {

void write_file_atomically(const std::string& path, std::string_view contents) {
  std::string tmp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    throw InputError(path + ": cannot create the file (" + std::strerror(errno) + ")");
  }
  const char* data = contents.data();
  size_t left = contents.size();
  bool ok = true;
  while (left > 0) {
    const ssize_t written = ::write(fd, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      ok = false;
      break;
    }
    data += written;
    left -= static_cast<size_t>(written);
  }
  const std::string reason = ok ? "" : std::strerror(errno);
  ok = ok && ::fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  // mkstemp creates the file 0600; results are meant to be shared like any other output file.
  ok = ok && ::chmod(tmp.c_str(), 0644) == 0;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = reason.empty() ? std::strerror(errno) : reason;
    std::remove(tmp.c_str());
    throw InputError(path + ": cannot write the file (" + why + ")");
  }
}

std::string read_file(const std::string& path) {
  std::error_code error;
  // Reading a directory "succeeds" with no bytes on Linux, which the readers would report as an
  // empty or truncated file.
  if (std::filesystem::is_directory(path, error)) {
    throw InputError(path + ": is a directory, expected a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open the file for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw InputError(path + ": error while reading the file");
  return buffer.str();
}

}  // namespace relustab::io
