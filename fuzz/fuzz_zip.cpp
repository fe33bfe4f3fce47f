// SPDX-License-Identifier: MIT
// detail::ZipReader (the container of .npz): the central directory, then every member extracted
// (stored and deflated, sizes and CRC-32 checked). Properties: find() returns each listed member, an
// extracted member has its recorded size, and write_stored_zip of the extracted members reads back equal.
#include <relustab/core/error.h>

#include "fuzz_common.h"
#include "zip_archive.h"

#include <utility>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace relustab;
  const std::string_view archive = fuzz::as_view(data, size);
  std::vector<std::pair<std::string, std::string>> members;
  try {
    const io::detail::ZipReader zip(archive, "fuzz.zip");
    for (const io::detail::ZipEntry& entry : zip.entries()) {
      fuzz::check(zip.find(entry.name) != nullptr, "ZipReader::find misses a listed member");
      std::string bytes = zip.extract(entry);
      fuzz::check(bytes.size() == entry.uncompressed_size, "extracted member differs from its recorded size");
      members.emplace_back(entry.name, std::move(bytes));
    }
  } catch (const InputError&) {
    if (members.empty()) return 0;
    // Some members were good: round-trip those below.
  }
  if (members.empty()) return 0;
  std::string written;
  try {
    written = io::detail::write_stored_zip(members);
  } catch (const InputError&) {
    return 0;  // e.g. a name the writer refuses
  }
  const io::detail::ZipReader again(written, "round trip");
  fuzz::check(again.entries().size() == members.size(), "write_stored_zip -> ZipReader lost members");
  for (std::size_t i = 0; i < members.size(); ++i) {
    fuzz::check(again.entries()[i].name == members[i].first, "write_stored_zip -> ZipReader renamed a member");
    fuzz::check(again.extract(again.entries()[i]) == members[i].second,
                "write_stored_zip -> ZipReader changed a member's bytes");
  }
  return 0;
}
