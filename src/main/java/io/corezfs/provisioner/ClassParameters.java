package io.corezfs.provisioner;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Text;
import io.corezfs.flexvolume.ZfsValues;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * A StorageClass's {@code parameters}, read strictly: only the keys below, each value by the rules of
 * {@link ZfsValues}. Whoever may write a StorageClass may not thereby choose arbitrary zfs options.
 *
 * @param compression  {@code compression} of each volume, else inherited from the parent
 * @param recordsize   {@code recordsize}, else inherited
 * @param reserveSpace false for thin volumes: {@code refquota} only, no {@code refreservation}
 * @param sharenfs     the {@code sharenfs} value; present means the PV is NFS, not hostPath
 */
public record ClassParameters(
        Optional<String> compression, Optional<String> recordsize, boolean reserveSpace, Optional<String> sharenfs) {
    static final Set<String> KEYS = Set.of("compression", "recordsize", "reserveSpace", "sharenfs");

    /**
     * {@code on}, or export options in the exportfs syntax zfs passes on ({@code rw=@10.0.0.0/8,no_root_squash}):
     * no space, quote, shell or option character, and not starting with a dash.
     */
    private static final Pattern SHARENFS = Pattern.compile("[A-Za-z0-9@][A-Za-z0-9=@/.,:_+-]{0,199}");

    public static ClassParameters parse(Map<String, String> parameters) {
        Set<String> unknown = new TreeSet<>(parameters.keySet());
        unknown.removeAll(KEYS);
        if (!unknown.isEmpty()) {
            throw bad("unknown StorageClass parameter(s) "
                    + Text.printable(String.join(", ", unknown), 120) + "; known: compression, recordsize,"
                    + " reserveSpace, sharenfs");
        }
        Optional<String> compression = Optional.ofNullable(parameters.get("compression"))
                .map(v -> ZfsValues.compression(v, "parameter compression"));
        Optional<String> recordsize = Optional.ofNullable(parameters.get("recordsize"))
                .map(v -> ZfsValues.recordsize(v, "parameter recordsize"));
        String reserve = parameters.getOrDefault("reserveSpace", "true");
        if (!reserve.equals("true") && !reserve.equals("false")) {
            throw bad(
                    "parameter reserveSpace must be \"true\" or \"false\", not '" + Text.printable(reserve, 40) + "'");
        }
        Optional<String> sharenfs = Optional.ofNullable(parameters.get("sharenfs"));
        if (sharenfs.isPresent()
                && (!SHARENFS.matcher(sharenfs.get()).matches()
                        || sharenfs.get().equals("off"))) {
            throw bad("parameter sharenfs must be on or exportfs options (letters, digits and = @ / . , : _ + -),"
                    + " not '" + Text.printable(sharenfs.get(), 80) + "'");
        }
        return new ClassParameters(compression, recordsize, reserve.equals("true"), sharenfs);
    }

    private static CorezfsException bad(String message) {
        return new CorezfsException(ExitCode.USAGE, message);
    }
}
