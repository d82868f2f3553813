package io.corezfs.system;

/**
 * A symlink that enables a unit, as {@code systemctl enable} would create it.
 *
 * @param path   where the link lives, relative to the root, e.g. {@code etc/systemd/system/zfs.target.wants/x.service}
 * @param target the absolute host path it points to
 */
public record UnitLink(String path, String target) {}
