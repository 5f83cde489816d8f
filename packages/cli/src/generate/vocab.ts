/**
 * Word lists of the synthetic data generator, written as separated strings to keep them compact.
 */

/** The 114 genres of the public Spotify tracks dataset. */
export const GENRES: readonly string[] = (
  "acoustic|afrobeat|alt-rock|alternative|ambient|anime|black-metal|bluegrass|blues|brazil|" +
  "breakbeat|british|cantopop|chicago-house|children|chill|classical|club|comedy|country|dance|" +
  "dancehall|death-metal|deep-house|detroit-techno|disco|disney|drum-and-bass|dub|dubstep|edm|" +
  "electro|electronic|emo|folk|forro|french|funk|garage|german|gospel|goth|grindcore|groove|grunge|" +
  "guitar|happy|hard-rock|hardcore|hardstyle|heavy-metal|hip-hop|honky-tonk|house|idm|indian|" +
  "indie-pop|indie|industrial|iranian|j-dance|j-idol|j-pop|j-rock|jazz|k-pop|kids|latin|latino|" +
  "malay|mandopop|metal|metalcore|minimal-techno|mpb|new-age|opera|pagode|party|piano|pop-film|pop|" +
  "power-pop|progressive-house|psych-rock|punk-rock|punk|r-n-b|reggae|reggaeton|rock-n-roll|rock|" +
  "rockabilly|romance|sad|salsa|samba|sertanejo|show-tunes|singer-songwriter|ska|sleep|songwriter|" +
  "soul|spanish|study|swedish|synth-pop|tango|techno|trance|trip-hop|turkish|world-music"
).split("|");

/** Plain words for track, album and band names. */
export const WORDS: readonly string[] = (
  "love|night|fire|heart|dream|summer|rain|light|shadow|river|ocean|city|midnight|golden|blue|" +
  "electric|wild|young|forever|lonely|sweet|broken|neon|silver|paper|diamond|stone|velvet|crystal|" +
  "echo|thunder|storm|moon|sun|star|sky|road|highway|home|girl|boy|baby|angel|devil|ghost|heaven|" +
  "paradise|kingdom|empire|garden|flower|rose|wolf|tiger|bird|butterfly|dance|party|rhythm|groove|" +
  "soul|spirit|magic|mirror|window|door|wall|bridge|island|desert|mountain|valley|winter|autumn|" +
  "spring|morning|evening|tonight|yesterday|tomorrow|memories|secrets|lies|truth|promise|goodbye|" +
  "hello|kiss|touch|whisper|scream|silence|noise|radio|television|machine|robot|signal|satellite|" +
  "rocket|planet|galaxy|universe|gravity|motion|fever|sugar|honey|candy|cherry|lemon|coffee|wine|" +
  "whiskey|smoke|ashes|dust|gold|money|million|thousand|hundred|seven|eleven|zero|nothing|" +
  "everything|someone|nobody|alone|together|running|falling|flying|burning|shining|waiting|dancing|" +
  "dreaming|crazy|lucky|happy|sad|blind|free|true|dark|bright|cold|warm|slow|fast"
).split("|");

/** Words with non-ASCII letters, used now and then. */
export const ACCENTED_WORDS: readonly string[] = (
  "café|corazón|déjà vu|niño|señorita|über|mañana|été|ça va|são paulo|noël|zoë|björk|fiancée|naïve|" +
  "jalapeño|smörgåsbord|coração|ánimo|crème brûlée|façade|piñata|müller|göteborg|æther|øresund|" +
  "straße|canción|amigos del alma|fête"
).split("|");

/** Emoji appended to a few names. */
export const EMOJI: readonly string[] = "🔥|💔|✨|🌙|🎶|❤️|🚀|🌊".split("|");

/** First names for artists and users. */
export const FIRST_NAMES: readonly string[] = (
  "James|Mary|John|Patricia|Robert|Jennifer|Michael|Linda|David|Elizabeth|William|Barbara|Richard|" +
  "Susan|Joseph|Jessica|Thomas|Sarah|Charles|Karen|Daniel|Nancy|Matthew|Lisa|Anthony|Betty|Mark|" +
  "Sandra|Paul|Ashley|Kevin|Emily|Brian|Michelle|George|Amanda|Oliver|Sophia|Liam|Emma|Noah|Ava|" +
  "Lucas|Mia|Hugo|Léa|Chloé|Zoë|José|María|Sofía|Mateo|Jürgen|Björn|Søren|Åsa|Łukasz|Zoltán|Renée|" +
  "Aiko|Hiroshi|Yuki|Min-jun|Ji-woo|Wei|Priya|Arjun|Fatima|Omar|Amara|Kwame|Chidi|Ngozi|Diego|" +
  "Camila|Joaquín"
).split("|");

/** Last names for artists and users. */
export const LAST_NAMES: readonly string[] = (
  "Smith|Johnson|Williams|Brown|Jones|Garcia|Miller|Davis|Rodriguez|Martinez|Hernandez|Lopez|" +
  "Gonzalez|Wilson|Anderson|Thomas|Taylor|Moore|Jackson|Martin|Lee|Perez|Thompson|White|Harris|" +
  "Sanchez|Clark|Ramirez|Lewis|Robinson|Walker|Young|Allen|King|Wright|Scott|Torres|Nguyen|Hill|" +
  "Flores|Green|O'Brien|O'Connor|McDonald|Müller|Schröder|Dubois|Lefèvre|Núñez|Peña|Muñoz|Šimić|" +
  "Kowalski|Nowak|Andersson|Johansson|Sørensen|Tanaka|Sato|Kim|Park|Chen|Wang|Singh|Patel|Okafor|" +
  "Mensah|Silva|Santos|Costa|Rossi|Bianchi"
).split("|");

/** Artist names of the kind that contain a comma (so need quoting). */
export const COMMA_ARTISTS: readonly string[] = (
  "Tyler, The Creator|Earth, Wind & Fire|Crosby, Stills, Nash & Young|Peter, Paul and Mary|" +
  "Emerson, Lake & Palmer|Blood, Sweat & Tears"
).split("|");

/** Countries of users; a few need quoting or have non-ASCII letters. */
export const COUNTRIES: readonly string[] = (
  "United States|United Kingdom|Canada|Australia|Germany|France|Spain|Italy|Brazil|Mexico|" +
  "Argentina|Colombia|Chile|Japan|India|Indonesia|Philippines|Nigeria|Kenya|South Africa|Egypt|" +
  "Turkey|Poland|Netherlands|Belgium|Sweden|Norway|Denmark|Finland|Ireland|Portugal|Switzerland|" +
  "Austria|New Zealand|Singapore|Korea, Republic of|Taiwan, Province of China|Côte d'Ivoire|" +
  "Curaçao|Réunion"
).split("|");
