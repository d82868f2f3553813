package io.corezfs.devcontainer;

import java.util.UUID;

/**
 * One used entry of a GPT partition table.
 *
 * @param number   1-based position in the entry array, as the kernel and {@code sfdisk} number it
 * @param name     the partition label, decoded from UTF-16LE up to the first NUL
 * @param typeGuid the partition type
 * @param firstLba first sector, inclusive
 * @param lastLba  last sector, inclusive
 */
public record GptPartition(int number, String name, UUID typeGuid, long firstLba, long lastLba) {

    /** Where the partition starts in the image, in bytes: the {@code offset=} for a loop mount. */
    public long byteOffset() {
        return firstLba * GptReader.SECTOR_SIZE;
    }

    /** The partition's size in bytes: the {@code sizelimit=} for a loop mount. */
    public long byteLength() {
        return (lastLba - firstLba + 1) * GptReader.SECTOR_SIZE;
    }
}
