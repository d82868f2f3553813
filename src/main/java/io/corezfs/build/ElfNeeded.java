package io.corezfs.build;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The dynamic-linking facts of one ELF file: which libraries it needs ({@code DT_NEEDED}) and, for a shared
 * library, the name it is loaded by ({@code DT_SONAME}). The build uses them to find the libraries the ZFS
 * binaries need beyond the target's base image, without running {@code ldd} (which executes the loader) or
 * depending on binutils.
 *
 * <p>Only ELF64 little-endian is read, the only kind a Container Linux board we build for produces. The dynamic
 * section is found through the program headers, as the loader does; section headers are the fallback for files
 * without them.
 *
 * @param needed DT_NEEDED names in file order
 * @param soname DT_SONAME, if the file has one
 */
public record ElfNeeded(List<String> needed, Optional<String> soname) {
    private static final int PT_LOAD = 1;
    private static final int PT_DYNAMIC = 2;
    private static final int SHT_DYNAMIC = 6;
    private static final long DT_NULL = 0;
    private static final long DT_NEEDED = 1;
    private static final long DT_STRTAB = 5;
    private static final long DT_STRSZ = 10;
    private static final long DT_SONAME = 14;
    // Real dynamic sections hold a few dozen entries; the cap stops a corrupt size from driving a huge read.
    private static final long MAX_DYNAMIC_BYTES = 1 << 20;
    private static final int MAX_NAME = 4096;
    private static final long MAX_READ = 16 << 20;

    public ElfNeeded {
        needed = List.copyOf(needed);
    }

    /**
     * Reads {@code file}'s dynamic section.
     *
     * @return empty if the file is not ELF at all (a script, a text file); a statically linked ELF gives an empty
     *         list and no soname
     * @throws CorezfsException exit 6 for ELF that is 32-bit, big-endian or inconsistent (offsets past the end)
     */
    public static Optional<ElfNeeded> read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return new Reader(ch, file.toString()).read();
        }
    }

    private static final class Reader {
        private final FileChannel ch;
        private final String name;
        private final long size;

        Reader(FileChannel ch, String name) throws IOException {
            this.ch = ch;
            this.name = name;
            this.size = ch.size();
        }

        Optional<ElfNeeded> read() throws IOException {
            if (size < 4) {
                return Optional.empty();
            }
            ByteBuffer ident = at(0, 4);
            if (ident.get(0) != 0x7f || ident.get(1) != 'E' || ident.get(2) != 'L' || ident.get(3) != 'F') {
                return Optional.empty();
            }
            ByteBuffer eh = at(0, 64);
            if (eh.get(4) != 2) {
                throw bad("is 32-bit ELF; only ELF64 is supported");
            }
            if (eh.get(5) != 1) {
                throw bad("is big-endian ELF; only little-endian is supported");
            }
            long phoff = eh.getLong(32);
            long shoff = eh.getLong(40);
            int phentsize = Short.toUnsignedInt(eh.getShort(54));
            int phnum = Short.toUnsignedInt(eh.getShort(56));
            int shentsize = Short.toUnsignedInt(eh.getShort(58));
            int shnum = Short.toUnsignedInt(eh.getShort(60));

            List<long[]> loads = new ArrayList<>(); // {vaddr, offset, filesz}
            long[] dynamic = null; // {offset, size}
            if (phoff != 0 && phnum > 0) {
                if (phentsize < 56) {
                    throw bad("has program headers of " + phentsize + " bytes");
                }
                ByteBuffer ph = at(phoff, (long) phnum * phentsize);
                for (int i = 0; i < phnum; i++) {
                    int b = i * phentsize;
                    int type = ph.getInt(b);
                    if (type == PT_LOAD) {
                        loads.add(new long[]{ph.getLong(b + 16), ph.getLong(b + 8), ph.getLong(b + 32)});
                    } else if (type == PT_DYNAMIC) {
                        dynamic = new long[]{ph.getLong(b + 8), ph.getLong(b + 32)};
                    }
                }
            }
            long[] strtabBySection = null;
            if (dynamic == null && shoff != 0 && shnum > 0) {
                // No program headers to go by (unusual): the section table names .dynamic and, via sh_link, .dynstr.
                if (shentsize < 64) {
                    throw bad("has section headers of " + shentsize + " bytes");
                }
                ByteBuffer sh = at(shoff, (long) shnum * shentsize);
                for (int i = 0; i < shnum && dynamic == null; i++) {
                    int b = i * shentsize;
                    if (sh.getInt(b + 4) == SHT_DYNAMIC) {
                        dynamic = new long[]{sh.getLong(b + 24), sh.getLong(b + 32)};
                        int link = sh.getInt(b + 40);
                        if (link <= 0 || link >= shnum) {
                            throw bad("has a .dynamic section linked to no string table");
                        }
                        int l = link * shentsize;
                        strtabBySection = new long[]{sh.getLong(l + 24), sh.getLong(l + 32)};
                    }
                }
            }
            if (dynamic == null) {
                return Optional.of(new ElfNeeded(List.of(), Optional.empty())); // statically linked
            }
            return Optional.of(dynamic(dynamic[0], dynamic[1], loads, strtabBySection));
        }

        private ElfNeeded dynamic(long offset, long length, List<long[]> loads, long[] strtabBySection) throws IOException {
            if (length > MAX_DYNAMIC_BYTES) {
                throw bad("has an implausibly large dynamic section (" + length + " bytes)");
            }
            ByteBuffer dyn = at(offset, length);
            List<Long> neededOffsets = new ArrayList<>();
            long soname = -1;
            long strtabAddr = -1;
            long strsz = -1;
            for (int b = 0; b + 16 <= length; b += 16) {
                long tag = dyn.getLong(b);
                long val = dyn.getLong(b + 8);
                if (tag == DT_NULL) {
                    break;
                } else if (tag == DT_NEEDED) {
                    neededOffsets.add(val);
                } else if (tag == DT_SONAME) {
                    soname = val;
                } else if (tag == DT_STRTAB) {
                    strtabAddr = val;
                } else if (tag == DT_STRSZ) {
                    strsz = val;
                }
            }
            if (neededOffsets.isEmpty() && soname < 0) {
                return new ElfNeeded(List.of(), Optional.empty());
            }
            long[] strtab = strtabBySection != null ? strtabBySection : new long[]{fileOffset(strtabAddr, loads), strsz};
            if (strtab[0] < 0 || strtab[1] <= 0) {
                throw bad("has DT_NEEDED/DT_SONAME but no usable string table");
            }
            List<String> needed = new ArrayList<>();
            for (long o : neededOffsets) {
                needed.add(string(strtab, o));
            }
            return new ElfNeeded(needed, soname < 0 ? Optional.empty() : Optional.of(string(strtab, soname)));
        }

        /** DT_STRTAB is a virtual address; the PT_LOAD segment containing it says where those bytes sit in the file. */
        private long fileOffset(long vaddr, List<long[]> loads) {
            if (vaddr < 0) {
                return -1;
            }
            for (long[] l : loads) {
                if (vaddr >= l[0] && vaddr - l[0] < l[2]) {
                    return l[1] + (vaddr - l[0]);
                }
            }
            return -1;
        }

        private String string(long[] strtab, long index) throws IOException {
            if (index < 0 || index >= strtab[1]) {
                throw bad("has a name at string-table index " + index + " past the table's end");
            }
            long start = strtab[0] + index;
            int len = (int) Math.min(Math.min(MAX_NAME, strtab[1] - index), size - start);
            ByteBuffer b = at(start, len);
            for (int i = 0; i < len; i++) {
                if (b.get(i) == 0) {
                    byte[] raw = new byte[i];
                    b.get(0, raw);
                    return new String(raw, StandardCharsets.UTF_8);
                }
            }
            throw bad("has an unterminated name in its string table");
        }

        private ByteBuffer at(long offset, long length) throws IOException {
            if (length > MAX_READ) {
                throw bad("is corrupt: a header claims " + length + " bytes of tables");
            }
            if (offset < 0 || length < 0 || offset > size || length > size - offset) {
                throw bad("is truncated or corrupt: needs bytes " + offset + ".." + (offset + length)
                        + " of a " + size + "-byte file");
            }
            ByteBuffer buf = ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
            while (buf.hasRemaining()) {
                if (ch.read(buf, offset + buf.position()) < 0) {
                    throw bad("ended while being read");
                }
            }
            return buf.flip();
        }

        private CorezfsException bad(String what) {
            return new CorezfsException(ExitCode.BUILD_FAILED, name + ": " + what);
        }
    }
}
