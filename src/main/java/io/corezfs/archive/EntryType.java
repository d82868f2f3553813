package io.corezfs.archive;

import com.fasterxml.jackson.annotation.JsonValue;

/** The only kinds of entry an archive may hold. Devices, fifos and sockets have no place in a ZFS install tree. */
public enum EntryType {
    DIR("dir"),
    FILE("file"),
    SYMLINK("symlink"),
    HARDLINK("hardlink");

    private final String json;

    EntryType(String json) {
        this.json = json;
    }

    @JsonValue
    public String json() {
        return json;
    }
}
