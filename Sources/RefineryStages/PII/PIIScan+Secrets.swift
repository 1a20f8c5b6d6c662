extension PIIScan {
    /// A key or token that starts at `s` (the start of a word), by its issuer's shape:
    ///
    /// | prefix | body |
    /// |---|---|
    /// | `sk-` (OpenAI, Anthropic: `sk-proj-…`, `sk-ant-…`) | ≥ 20 of `A-Z a-z 0-9 _ -`, with a digit and a letter |
    /// | `sk_live_`, `sk_test_`, `rk_live_`, `rk_test_` (Stripe) | ≥ 16 letters and digits |
    /// | `AKIA`, `ASIA` (AWS access key id) | exactly 16 of `A-Z 0-9` |
    /// | `AIza` (Google API key) | exactly 35 of `A-Z a-z 0-9 _ -` |
    /// | `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` (GitHub) | ≥ 36 letters and digits |
    /// | `github_pat_` | ≥ 22 of `A-Z a-z 0-9 _` |
    /// | `glpat-` (GitLab) | ≥ 20 of `A-Z a-z 0-9 _ -` |
    /// | `xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-` (Slack) | ≥ 10 of `A-Z a-z 0-9 -` |
    /// | `hf_` (Hugging Face) | ≥ 30 letters and digits |
    /// | `npm_` | ≥ 36 letters and digits |
    /// | `eyJ` (JWT) | three base64url segments of ≥ 10 bytes joined by dots |
    mutating func secret(at s: Int) -> Int? {
        let alnum = ByteClass.alpha | ByteClass.digit
        var end: Int?
        switch b[s] {
        case UInt8(ascii: "s"), UInt8(ascii: "r"):
            if hasPrefix("sk_live_", at: s) || hasPrefix("sk_test_", at: s) || hasPrefix("rk_live_", at: s) || hasPrefix("rk_test_", at: s) {
                end = body(s + 8, alnum, minimum: 16)
            } else if hasPrefix("sk-", at: s) {
                let e = runEnd(from: s + 3, ByteClass.token, limit: 512)
                if e - s - 3 >= 20, hasDigitAndLetter(s + 3..<e) { end = e }
            }
        case UInt8(ascii: "A"):
            if hasPrefix("AKIA", at: s) || hasPrefix("ASIA", at: s) {
                end = body(s + 4, ByteClass.upper | ByteClass.digit, exactly: 16)
            } else if hasPrefix("AIza", at: s) {
                end = body(s + 4, ByteClass.token, exactly: 35)
            }
        case UInt8(ascii: "g"):
            if hasPrefix("github_pat_", at: s) {
                end = body(s + 11, alnum | ByteClass.word, minimum: 22)
            } else if hasPrefix("glpat-", at: s) {
                end = body(s + 6, ByteClass.token, minimum: 20)
            } else if hasPrefix("gh", at: s), byte(s + 3) == UInt8(ascii: "_"),
                      [UInt8(ascii: "p"), UInt8(ascii: "o"), UInt8(ascii: "u"), UInt8(ascii: "s"), UInt8(ascii: "r")].contains(byte(s + 2)) {
                end = body(s + 4, alnum, minimum: 36)
            }
        case UInt8(ascii: "x"):
            if hasPrefix("xox", at: s), byte(s + 4) == UInt8(ascii: "-"),
               [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "p"), UInt8(ascii: "r"), UInt8(ascii: "s")].contains(byte(s + 3)) {
                end = body(s + 5, alnum | ByteClass.token, minimum: 10)
            }
        case UInt8(ascii: "h"):
            if hasPrefix("hf_", at: s) { end = body(s + 3, alnum, minimum: 30) }
        case UInt8(ascii: "n"):
            if hasPrefix("npm_", at: s) { end = body(s + 4, alnum, minimum: 36) }
        case UInt8(ascii: "e"):
            if hasPrefix("eyJ", at: s) { end = jwt(at: s) }
        default:
            break
        }
        guard let end else { return nil }
        emit(s..<end, .secret)
        return end
    }

    /// The end of a key body of class `flag` starting at `start`, when it has at least `minimum` bytes and ends at a
    /// word boundary.
    func body(_ start: Int, _ flag: UInt16, minimum: Int) -> Int? {
        let e = runEnd(from: start, flag, limit: 1024)
        guard e - start >= minimum, !has(e, ByteClass.token) else { return nil }
        return e
    }

    /// The end of a key body of class `flag` with exactly `count` bytes followed by a boundary.
    func body(_ start: Int, _ flag: UInt16, exactly count: Int) -> Int? {
        let e = runEnd(from: start, flag, limit: count + 1)
        guard e - start == count, !has(e, ByteClass.token) else { return nil }
        return e
    }

    func hasDigitAndLetter(_ range: Range<Int>) -> Bool {
        var digit = false, letter = false
        for k in range {
            if has(k, ByteClass.digit) { digit = true } else if has(k, ByteClass.alpha) { letter = true }
            if digit && letter { return true }
        }
        return false
    }

    /// A JSON Web Token: `eyJ…` header, payload and signature, base64url, joined by dots.
    func jwt(at s: Int) -> Int? {
        var k = s
        for segment in 0..<3 {
            let e = runEnd(from: k, ByteClass.token, limit: 16384)
            guard e - k >= 10 else { return nil }
            k = e
            if segment < 2 {
                guard byte(k) == UInt8(ascii: "."), has(k + 1, ByteClass.token) else { return nil }
                k += 1
            }
        }
        // Padding some encoders leave on the signature.
        while byte(k) == UInt8(ascii: "=") { k += 1 }
        return k
    }

    /// A PEM private-key block at `s`: `-----BEGIN … PRIVATE KEY-----` (also `… PRIVATE KEY BLOCK-----`) through its
    /// `-----END …-----` line; when the end line is missing, through the last base64 line of the body.
    /// Certificates and public keys are not secrets.
    mutating func pem(at s: Int) -> Int? {
        guard hasPrefix("-----BEGIN ", at: s) else { return nil }
        var k = s + 11
        let labelCap = min(n, k + 48)
        while k < labelCap, has(k, ByteClass.upper) || b[k] == UInt8(ascii: " ") { k += 1 }
        guard hasPrefix("-----", at: k) else { return nil }
        let labelEnd = k
        let privateKey = hasSuffix("PRIVATE KEY", endingAt: labelEnd) || hasSuffix("PRIVATE KEY BLOCK", endingAt: labelEnd)
        guard privateKey else { return nil }
        k += 5
        let headerEnd = k
        // Through the END marker when it comes before anything that cannot be in a key block; otherwise through
        // the last line that was pure base64.
        var lastGood = headerEnd
        var lineStart = k
        var linePure = true
        let cap = min(n, k + 65536)
        while k < cap {
            let c = b[k]
            if c == UInt8(ascii: "-"), hasPrefix("-----END ", at: k) {
                var e = k + 9
                while e < cap, b[e] != UInt8(ascii: "\n"), !hasPrefix("-----", at: e) { e += 1 }
                if hasPrefix("-----", at: e) { e += 5 }
                emit(s..<e, .secret)
                return e
            }
            if c == UInt8(ascii: "\n") {
                var lineEnd = k
                if lineEnd > lineStart, b[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                if linePure, lineEnd > lineStart { lastGood = lineEnd }
                lineStart = k + 1
                linePure = true
            } else if has(k, ByteClass.alpha | ByteClass.digit) || c == UInt8(ascii: "+") || c == UInt8(ascii: "/")
                        || c == UInt8(ascii: "=") {
                // base64
            } else if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") || c == UInt8(ascii: ":")
                        || c == UInt8(ascii: ",") || c == UInt8(ascii: "-") {
                linePure = false  // allowed between markers (headers such as `Proc-Type: 4,ENCRYPTED`, wrapped text)
            } else {
                break
            }
            k += 1
        }
        if k == n, linePure, k > lineStart { lastGood = k }
        emit(s..<lastGood, .secret)
        return lastGood
    }

    func hasSuffix(_ literal: StaticString, endingAt end: Int) -> Bool {
        hasPrefix(literal, at: end - literal.utf8CodeUnitCount)
    }
}
