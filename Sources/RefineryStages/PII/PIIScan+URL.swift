extension PIIScan {
    /// A URL through the `://` at `colon` that carries credentials: a password in its user info
    /// (`postgres://app:S3cret@db:5432/x`), a long token as its user name (`https://ghp_…@github.com`), or a query or
    /// fragment parameter named like a secret (`token`, `access_token`, `api_key`, `key`, `secret`, `password`,
    /// `sig`, `X-Amz-Signature`, or ending in `_token`, `_key`, `secret`, `password`). The whole URL is the match.
    /// A URL without any of these is not a match, and the scan goes on inside it (an e-mail in a query string is
    /// still found).
    mutating func urlCredentials(at colon: Int) -> Int? {
        // The scheme: letters, digits, `+ . -`, starting with a letter, at least two long.
        let floor = max(lastEnd, colon - 32)
        var s = colon
        while s > floor, has(s - 1, ByteClass.alpha | ByteClass.digit) || b[s - 1] == UInt8(ascii: "+")
            || b[s - 1] == UInt8(ascii: ".") || b[s - 1] == UInt8(ascii: "-") {
            s -= 1
        }
        while s < colon, !has(s, ByteClass.alpha) { s += 1 }
        guard colon - s >= 2 else { return nil }

        var e = runEnd(from: colon + 3, ByteClass.url, limit: 8192)
        var hasOpenParen = false
        for k in colon..<e where b[k] == UInt8(ascii: "(") {
            hasOpenParen = true
            break
        }
        trim: while e > colon + 3 {
            switch b[e - 1] {
            case UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "!"),
                 UInt8(ascii: "?"), UInt8(ascii: "]"), UInt8(ascii: "*"):
                e -= 1
            case UInt8(ascii: ")") where !hasOpenParen:
                e -= 1
            default:
                break trim
            }
        }
        let authorityStart = colon + 3
        var authorityEnd = authorityStart
        while authorityEnd < e, b[authorityEnd] != UInt8(ascii: "/"), b[authorityEnd] != UInt8(ascii: "?"),
              b[authorityEnd] != UInt8(ascii: "#") {
            authorityEnd += 1
        }
        var found = false
        var at = authorityEnd - 1
        while at >= authorityStart, b[at] != UInt8(ascii: "@") { at -= 1 }
        if at > authorityStart {
            // User info: `user:password`, or a token standing alone as the user.
            if let sep = (authorityStart..<at).first(where: { b[$0] == UInt8(ascii: ":") }) {
                found = sep > authorityStart && sep < at - 1
            } else {
                found = at - authorityStart >= 16 && (authorityStart..<at).contains { has($0, ByteClass.digit) }
            }
        }
        if !found, authorityEnd < e {
            found = hasSecretParameter(authorityEnd..<e)
        }
        guard found else { return nil }
        emit(s..<e, .urlCredentials)
        return e
    }

    /// Whether the path, query and fragment in `range` hold a `name=value` pair whose name looks like a secret and
    /// whose value has at least three bytes.
    func hasSecretParameter(_ range: Range<Int>) -> Bool {
        guard var k = range.firstIndex(where: { b[$0] == UInt8(ascii: "?") || b[$0] == UInt8(ascii: "#") }) else { return false }
        k += 1
        while k < range.upperBound {
            let nameStart = k
            while k < range.upperBound, b[k] != UInt8(ascii: "="), b[k] != UInt8(ascii: "&"), b[k] != UInt8(ascii: ";"),
                  b[k] != UInt8(ascii: "#") {
                k += 1
            }
            let name = nameStart..<k
            var valueLength = 0
            if k < range.upperBound, b[k] == UInt8(ascii: "=") {
                k += 1
                let valueStart = k
                while k < range.upperBound, b[k] != UInt8(ascii: "&"), b[k] != UInt8(ascii: ";"), b[k] != UInt8(ascii: "#") { k += 1 }
                valueLength = k - valueStart
            }
            if valueLength >= 3, isSecretName(name) { return true }
            k += 1
        }
        return false
    }

    /// Whether a parameter name (compared without case) names a credential.
    func isSecretName(_ name: Range<Int>) -> Bool {
        guard name.count >= 3, name.count <= 40 else { return false }
        func lower(_ k: Int) -> UInt8 {
            let c = b[k]
            return c >= 0x41 && c <= 0x5A ? c | 0x20 : c
        }
        func equals(_ word: [UInt8], endingAt end: Int) -> Bool {
            guard end - word.count >= name.lowerBound else { return false }
            for j in 0..<word.count where lower(end - word.count + j) != word[j] { return false }
            return true
        }
        for word in Self.secretNames where word.count == name.count && equals(word, endingAt: name.upperBound) { return true }
        for word in Self.secretNameEndings where equals(word, endingAt: name.upperBound) { return true }
        return false
    }

    static let secretNames: [[UInt8]] = [
        "key", "sig", "pwd", "auth", "pass", "token", "secret", "passwd", "apikey", "password", "signature", "sessionid",
        "x-amz-credential", "x-goog-credential",
    ].map { Array($0.utf8) }

    static let secretNameEndings: [[UInt8]] = [
        "token", "_key", "-key", "apikey", "secret", "password", "signature",
    ].map { Array($0.utf8) }
}
