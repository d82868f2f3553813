package io.corezfs.devcontainer;

import io.corezfs.CorezfsException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32;

// Kept hand-written: no library in the bundle reads a GPT, and sfdisk would be one more host tool (no benchmark).
/**
 * Reads the primary GPT of a raw disk image, so the build can find the developer container's ROOT partition
 * without {@code sfdisk}, {@code losetup -P} or a guessed offset.
 *
 * <p>Only the primary header at LBA 1 is read and only 512-byte logical sectors are supported, which is what the
 * Container Linux images use. Both CRC32s (header and entry array) must match: the image was verified as a
 * compressed file, but a bad decompression or a truncated disk must not turn into a wrong loop-mount offset.
 * Structural faults are exit 5.
 */
public final class GptReader {
    public static final int SECTOR_SIZE = 512;

    private static final byte[] SIGNATURE = "EFI PART".getBytes(StandardCharsets.US_ASCII);
    private static final int MIN_HEADER_SIZE = 92;
    private static final int MIN_ENTRY_SIZE = 128;
    // Real tables have 128 entries of 128 bytes (16 KiB); the caps keep a hostile header from making us allocate
    // or read a huge array.
    private static final int MAX_ENTRY_SIZE = 4096;
    private static final long MAX_ARRAY_BYTES = 1 << 20;
    private static final int NAME_BYTES = 72;

    private GptReader() {}

    /** Reads the table of the image at {@code image}. */
    public static GptTable read(Path image) throws IOException {
        try (SeekableByteChannel ch = Files.newByteChannel(image, StandardOpenOption.READ)) {
            return read(ch, image.toString());
        }
    }

    /**
     * Reads the table through {@code ch}, which is left open and at an unspecified position.
     *
     * @param name how to name the image in error messages
     * @throws CorezfsException exit 5 if there is no valid primary GPT, or an entry points past the image's end
     */
    public static GptTable read(SeekableByteChannel ch, String name) throws IOException {
        long size = ch.size();
        if (size < 2L * SECTOR_SIZE) {
            throw fault(name, "too small to hold a GPT (" + size + " bytes)");
        }
        ByteBuffer sector = readAt(ch, SECTOR_SIZE, SECTOR_SIZE, name);
        byte[] sig = new byte[SIGNATURE.length];
        sector.get(0, sig);
        if (!Arrays.equals(sig, SIGNATURE)) {
            throw fault(name, "no GPT header at LBA 1 (signature is not 'EFI PART')");
        }
        int headerSize = sector.getInt(12);
        if (headerSize < MIN_HEADER_SIZE || headerSize > SECTOR_SIZE) {
            throw fault(name, "GPT header size " + Integer.toUnsignedString(headerSize) + " is out of range");
        }
        int storedHeaderCrc = sector.getInt(16);
        ByteBuffer header = ByteBuffer.allocate(headerSize).order(ByteOrder.LITTLE_ENDIAN);
        header.put(0, sector, 0, headerSize);
        header.putInt(16, 0); // the CRC field counts as zero while computing the CRC
        if (crc32(header) != storedHeaderCrc) {
            throw fault(name, "GPT header CRC32 mismatch (corrupt or truncated image)");
        }
        long myLba = sector.getLong(24);
        if (myLba != 1) {
            throw fault(name, "primary GPT header claims to be at LBA " + myLba);
        }
        UUID diskGuid = guid(sector, 56);
        long entriesLba = sector.getLong(72);
        long count = Integer.toUnsignedLong(sector.getInt(80));
        long entrySize = Integer.toUnsignedLong(sector.getInt(84));
        int storedArrayCrc = sector.getInt(88);
        if (entrySize < MIN_ENTRY_SIZE || entrySize > MAX_ENTRY_SIZE || entrySize % 8 != 0) {
            throw fault(name, "GPT entry size " + entrySize + " is invalid");
        }
        long arrayBytes = count * entrySize;
        if (arrayBytes > MAX_ARRAY_BYTES) {
            throw fault(name, "GPT entry array of " + count + " x " + entrySize + " bytes is implausibly large");
        }
        if (entriesLba < 2 || entriesLba > size / SECTOR_SIZE || entriesLba * SECTOR_SIZE + arrayBytes > size) {
            throw fault(name, "GPT entry array at LBA " + entriesLba + " lies outside the image");
        }
        ByteBuffer array = readAt(ch, entriesLba * SECTOR_SIZE, (int) arrayBytes, name);
        if (crc32(array.duplicate()) != storedArrayCrc) {
            throw fault(name, "GPT partition entry array CRC32 mismatch (corrupt or truncated image)");
        }
        long sectors = size / SECTOR_SIZE;
        List<GptPartition> parts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int base = (int) (i * entrySize);
            if (array.getLong(base) == 0 && array.getLong(base + 8) == 0) {
                continue; // unused slot
            }
            int number = i + 1;
            long first = array.getLong(base + 32);
            long last = array.getLong(base + 40);
            if (first < 0 || last < first) {
                throw fault(name, "GPT partition " + number + " has an invalid range " + first + ".." + last);
            }
            if (last >= sectors) {
                throw fault(
                        name,
                        "GPT partition " + number + " ends at sector " + last + " but the image has only " + sectors
                                + " sectors (truncated?)");
            }
            parts.add(new GptPartition(number, name(array, base + 56), guid(array, base), first, last));
        }
        return new GptTable(diskGuid, parts);
    }

    private static ByteBuffer readAt(SeekableByteChannel ch, long offset, int length, String name) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        ch.position(offset);
        while (buf.hasRemaining()) {
            if (ch.read(buf) < 0) {
                throw new EOFException(name + ": unexpected end of image at byte " + (offset + buf.position()));
            }
        }
        return buf.flip();
    }

    private static int crc32(ByteBuffer buf) {
        CRC32 crc = new CRC32();
        crc.update(buf.position(0));
        return (int) crc.getValue();
    }

    /** GUIDs are stored mixed-endian: the first three fields little-endian, the last eight bytes as they are. */
    static UUID guid(ByteBuffer b, int off) {
        long d1 = Integer.toUnsignedLong(b.getInt(off));
        long d2 = Short.toUnsignedLong(b.getShort(off + 4));
        long d3 = Short.toUnsignedLong(b.getShort(off + 6));
        long lsb = b.duplicate().order(ByteOrder.BIG_ENDIAN).getLong(off + 8);
        return new UUID(d1 << 32 | d2 << 16 | d3, lsb);
    }

    private static String name(ByteBuffer b, int off) {
        int len = 0;
        while (len < NAME_BYTES && (b.get(off + len) != 0 || b.get(off + len + 1) != 0)) {
            len += 2;
        }
        byte[] raw = new byte[len];
        b.get(off, raw);
        return new String(raw, StandardCharsets.UTF_16LE);
    }

    private static CorezfsException fault(String image, String what) {
        return CorezfsException.verification(image + ": " + what);
    }
}
