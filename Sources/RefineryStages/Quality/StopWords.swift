/// The most frequent function words of each language, for Gopher's "has stop words" rule (a text in a language
/// with a list, of at least 10 words, is expected to hold at least two of them). Short lists written for this
/// project from common knowledge of each language's grammar words; matched case-insensitively for ASCII letters.
enum StopWords {
    static let lists: [String: HashSet] = words.mapValues { HashSet($0.split(separator: " ").map { QualitySignals.wordHash(String($0)) }) }

    /// A set of word hashes, looked up once per word of a record: a flat open-addressing table, because `Set`'s
    /// SipHash per lookup cost more than hashing the word itself.
    struct HashSet: Sendable {
        private var keys: [UInt64]
        private let mask: Int

        /// The set of `hashes` (repeats allowed).
        init(_ hashes: [UInt64]) {
            var capacity = 16
            while capacity < hashes.count * 4 { capacity <<= 1 }
            keys = [UInt64](repeating: 0, count: capacity)
            mask = capacity - 1
            // 0 marks a free slot: the hash 0 is stored (and looked up) as 1.
            for hash in hashes where !contains(hash) {
                let key = hash == 0 ? 1 : hash
                var slot = Self.slot(key, mask)
                while keys[slot] != 0 { slot = (slot + 1) & mask }
                keys[slot] = key
            }
        }

        /// Whether `hash` is in the set.
        func contains(_ hash: UInt64) -> Bool {
            let key = hash == 0 ? 1 : hash
            var slot = Self.slot(key, mask)
            while true {
                let stored = keys[slot]
                if stored == key { return true }
                if stored == 0 { return false }
                slot = (slot + 1) & mask
            }
        }

        private static func slot(_ hash: UInt64, _ mask: Int) -> Int {
            Int(truncatingIfNeeded: (hash ^ (hash >> 29)) &* 0xBF58_476D) & mask  // as in HashCounter
        }
    }

    private static let words: [String: String] = [
        "en": "the be to of and a in that have it for not on with he as you do at this but his by from they we her she or an will my one all would there their is are was were",
        "es": "de la que el en y a los se del las un por con no una su para es al lo como más pero sus le ya o este sí porque esta entre cuando muy sin sobre también me hasta",
        "pt": "de a o que e do da em um para é com não uma os no se na por mais as dos como mas foi ao ele das tem à seu sua ou ser quando muito há nos já está eu também",
        "fr": "de la le et les des en un du une que est pour qui dans a par plus pas au sur ne se ce il sont les ou avec son mais comme on tout nous je vous elle tu te ton ta mon ma me moi toi ça y c'est j'ai",
        "it": "di e il la che in a per un è del non una con i le si da lo al sono come ma più se anche della nel gli ci ha io tu lui noi questo",
        "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er hat dass sie nach wird bei einer um ich du wir",
        "nl": "de en van het een in is dat op te zijn met voor niet aan er ook als maar om bij dan wat nog was ik je hij ze we",
        "sv": "och i att det som en på är av för med till den har de inte om ett han men var jag sig från vi så kan man när",
        "da": "og i at det en den til er som på de med han af for ikke der var mig sig men et har om vi min havde hun nu",
        "nb": "og i det som på er en til å av for med at har den ikke de om et men var jeg seg fra vi så kan man når",
        "fi": "ja on ei se että hän oli ole kun mutta niin tai jos kuin myös joka nyt sitten minä sinä me te he mitä tämä",
        "pl": "i w nie na się z że do to jest jak o co ale po tak za od jego ja ty on my już czy tylko przez",
        "cs": "a se v na je že to s z do o jako ale i k by jsem jsou po pro za tak jeho který co už",
        "sk": "a sa v na je že to s z do o ako ale i k by som sú po pre za tak jeho ktorý čo už",
        "ro": "și în a de la cu nu se o pe că din un care este mai sunt pentru ce dar ca sau fi am",
        "hu": "a az és hogy nem is egy de meg van ez volt csak mint már el ki be még kell azt ha",
        "tr": "ve bir bu da de için ile ne çok ama o ben sen biz mi daha gibi var yok kadar en her şey",
        "id": "yang dan di itu dengan untuk tidak ini dari dalam akan pada juga saya ke karena ada mereka kami kita atau",
        "vi": "và của là có không những một được cho người này trong đã với các để khi thì cũng tôi anh em",
        "ru": "и в не на я что он с как а то все она так его но да ты к у же вы за бы по только ее мне было вот от меня еще нет о из",
        "uk": "і в не на я що він з як а то все вона так його але так ти до у же ви за би по тільки її мені було от від мене ще немає",
        "bg": "и в на не да се е за с от че то а по как той тя ние вие те са ще ли но аз ти",
        "el": "και το να η ο της του σε τα με που δεν για θα από την στο είναι τον οι αλλά ένα",
    ]
}
