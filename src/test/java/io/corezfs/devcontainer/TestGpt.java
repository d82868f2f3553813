package io.corezfs.devcontainer;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.zip.CRC32;

/**
 * Writes GPT disk images for tests, byte by byte from the UEFI spec, so the reader is checked against an
 * independent encoder rather than against itself. The image is sparse: only the MBR, header and entries are written.
 */
final class TestGpt {
    static final UUID LINUX_FS = UUID.fromString("0fc63daf-8483-4772-8e79-3d69d8477de4");
    static final int ENTRIES = 128;
    static final int ENTRY_SIZE = 128;

    private record Entry(int number, String name, UUID type, long first, long last) {}

    private final long sectors;
    private final List<Entry> entries = new ArrayList<>();
    private UUID disk = UUID.fromString("12345678-9abc-def0-1234-56789abcdef0");

    TestGpt(long sectors) {
        this.sectors = sectors;
    }

    TestGpt partition(int number, String name, long first, long last) {
        return partition(number, name, LINUX_FS, first, last);
    }

    TestGpt partition(int number, String name, UUID type, long first, long last) {
        entries.add(new Entry(number, name, type, first, last));
        return this;
    }

    TestGpt disk(UUID guid) {
        this.disk = guid;
        return this;
    }

    Path write(Path image) throws IOException {
        ByteBuffer array = ByteBuffer.allocate(ENTRIES * ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (Entry e : entries) {
            int base = (e.number() - 1) * ENTRY_SIZE;
            putGuid(array, base, e.type());
            putGuid(array, base + 16, UUID.nameUUIDFromBytes(e.name().getBytes(StandardCharsets.UTF_8)));
            array.putLong(base + 32, e.first());
            array.putLong(base + 40, e.last());
            byte[] name = e.name().getBytes(StandardCharsets.UTF_16LE);
            array.put(base + 56, name, 0, Math.min(name.length, 72));
        }
        ByteBuffer header = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        header.put(0, "EFI PART".getBytes(StandardCharsets.US_ASCII));
        header.putInt(8, 0x00010000);
        header.putInt(12, 92);
        header.putLong(24, 1);
        header.putLong(32, sectors - 1);
        header.putLong(40, 34);
        header.putLong(48, sectors - 34);
        putGuid(header, 56, disk);
        header.putLong(72, 2);
        header.putInt(80, ENTRIES);
        header.putInt(84, ENTRY_SIZE);
        header.putInt(88, crc(array.array(), 0, array.capacity()));
        header.putInt(16, crc(header.array(), 0, 92));

        ByteBuffer mbr = ByteBuffer.allocate(512).order(ByteOrder.LITTLE_ENDIAN);
        mbr.put(446 + 4, (byte) 0xEE); // protective MBR: one partition of type EE covering the disk
        mbr.putInt(446 + 8, 1);
        mbr.putInt(446 + 12, (int) Math.min(sectors - 1, 0xFFFFFFFFL));
        mbr.put(510, (byte) 0x55).put(511, (byte) 0xAA);

        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(sectors * 512);
            f.write(mbr.array());
            f.write(header.array());
            f.write(array.array());
        }
        return image;
    }

    /** Flips one byte in place, to corrupt a header or entry. */
    static void flipByte(Path image, long offset) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.seek(offset);
            int b = f.read();
            f.seek(offset);
            f.write(b ^ 0xFF);
        }
    }

    /** Writes a little-endian int and re-seals the header CRC, to test checks that come after the CRC. */
    static void patchHeaderInt(Path image, int fieldOffset, int value) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            byte[] h = new byte[92];
            f.seek(512);
            f.readFully(h);
            ByteBuffer b = ByteBuffer.wrap(h).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(fieldOffset, value);
            b.putInt(16, 0);
            b.putInt(16, crc(h, 0, 92));
            f.seek(512);
            f.write(h);
        }
    }

    private static void putGuid(ByteBuffer b, int off, UUID u) {
        long msb = u.getMostSignificantBits();
        b.putInt(off, (int) (msb >>> 32));
        b.putShort(off + 4, (short) (msb >>> 16));
        b.putShort(off + 6, (short) msb);
        long lsb = u.getLeastSignificantBits();
        for (int i = 0; i < 8; i++) {
            b.put(off + 8 + i, (byte) (lsb >>> (56 - 8 * i)));
        }
    }

    private static int crc(byte[] b, int off, int len) {
        CRC32 c = new CRC32();
        c.update(b, off, len);
        return (int) c.getValue();
    }
}
