package io.corezfs.provisioner;

import io.corezfs.CorezfsException;
import io.corezfs.ExitCode;
import io.corezfs.Text;
import java.math.BigInteger;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A claim's storage request, a Kubernetes quantity, as bytes. Only whole numbers with a binary ({@code Ki} to
 * {@code Ei}) or decimal ({@code k} to {@code E}) suffix are taken: the forms a storage request is written in. A
 * fraction, an exponent or a milli-byte is refused rather than rounded to a size nobody asked for.
 */
final class Quantity {
    private static final Pattern FORM = Pattern.compile("(0|[1-9][0-9]{0,18})(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?");
    private static final Map<String, BigInteger> UNIT = Map.ofEntries(
            Map.entry("", BigInteger.ONE),
            Map.entry("Ki", BigInteger.TWO.pow(10)),
            Map.entry("Mi", BigInteger.TWO.pow(20)),
            Map.entry("Gi", BigInteger.TWO.pow(30)),
            Map.entry("Ti", BigInteger.TWO.pow(40)),
            Map.entry("Pi", BigInteger.TWO.pow(50)),
            Map.entry("Ei", BigInteger.TWO.pow(60)),
            Map.entry("k", BigInteger.TEN.pow(3)),
            Map.entry("M", BigInteger.TEN.pow(6)),
            Map.entry("G", BigInteger.TEN.pow(9)),
            Map.entry("T", BigInteger.TEN.pow(12)),
            Map.entry("P", BigInteger.TEN.pow(15)),
            Map.entry("E", BigInteger.TEN.pow(18)));

    /** ZFS sizes are 64-bit. */
    private static final BigInteger LIMIT = BigInteger.TWO.pow(64);

    private Quantity() {}

    static BigInteger bytes(String quantity) {
        Matcher m = FORM.matcher(quantity);
        if (!m.matches()) {
            throw new CorezfsException(
                    ExitCode.USAGE,
                    "the storage request must be a whole number of bytes with an optional suffix (Ki, Mi, Gi, ... or"
                            + " k, M, G, ...), not '" + Text.printable(quantity, 40) + "'");
        }
        BigInteger n = new BigInteger(m.group(1)).multiply(UNIT.get(m.group(2) == null ? "" : m.group(2)));
        if (n.signum() == 0 || n.compareTo(LIMIT) >= 0) {
            throw new CorezfsException(
                    ExitCode.USAGE, "the storage request must be more than 0 and less than 16Ei, not " + quantity);
        }
        return n;
    }
}
