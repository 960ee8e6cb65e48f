// Finland's municipalities for the join form, Swedish-speaking and bilingual ones first.
// Each entry is [Swedish name, Finnish name]; one name where both are the same.
// Language status as set by the Council of State for 2023–2032; check it when that changes.

/** Bilingual with a Swedish-speaking majority. */
const SWEDISH_MAJORITY = [
  ['Jakobstad', 'Pietarsaari'], ['Kimitoön', 'Kemiönsaari'], ['Korsholm', 'Mustasaari'],
  ['Korsnäs'], ['Kristinestad', 'Kristiinankaupunki'], ['Kronoby', 'Kruunupyy'], ['Larsmo', 'Luoto'],
  ['Malax', 'Maalahti'], ['Nykarleby', 'Uusikaarlepyy'], ['Närpes', 'Närpiö'], ['Pargas', 'Parainen'],
  ['Pedersöre', 'Pedersören kunta'], ['Raseborg', 'Raasepori'], ['Vörå', 'Vöyri'], ['Ingå', 'Inkoo'],
]

/** Swedish-speaking: the municipalities of Åland. */
const ALAND = [
  ['Brändö'], ['Eckerö'], ['Finström'], ['Föglö'], ['Geta'], ['Hammarland'], ['Jomala'],
  ['Kumlinge'], ['Kökar'], ['Lemland'], ['Lumparland'], ['Mariehamn', 'Maarianhamina'],
  ['Saltvik'], ['Sottunga'], ['Sund'], ['Vårdö'],
]

/** Bilingual with a Finnish-speaking majority. */
const FINNISH_MAJORITY = [
  ['Borgå', 'Porvoo'], ['Esbo', 'Espoo'], ['Grankulla', 'Kauniainen'], ['Hangö', 'Hanko'],
  ['Helsingfors', 'Helsinki'], ['Karleby', 'Kokkola'], ['Kaskö', 'Kaskinen'],
  ['Kyrkslätt', 'Kirkkonummi'], ['Lappträsk', 'Lapinjärvi'], ['Lojo', 'Lohja'], ['Lovisa', 'Loviisa'],
  ['Mörskom', 'Myrskylä'], ['Pyttis', 'Pyhtää'], ['Sibbo', 'Sipoo'], ['Sjundeå', 'Siuntio'],
  ['Vanda', 'Vantaa'], ['Vasa', 'Vaasa'], ['Åbo', 'Turku'],
]

/** Finnish-speaking (Swedish names where they are in common use). */
const FINNISH = [
  'Akaa', 'Alajärvi', 'Alavieska', 'Alavus', 'Asikkala', 'Askola', 'Aura', 'Enonkoski', 'Enontekiö',
  'Eura', 'Eurajoki', 'Evijärvi', 'Forssa', 'Haapajärvi', 'Haapavesi', 'Hailuoto', 'Halsua',
  'Hamina:Fredrikshamn', 'Hankasalmi', 'Harjavalta', 'Hartola', 'Hattula', 'Hausjärvi', 'Heinola',
  'Heinävesi', 'Hirvensalmi', 'Hollola', 'Huittinen', 'Humppila', 'Hyrynsalmi', 'Hyvinkää:Hyvinge',
  'Hämeenkyrö', 'Hämeenlinna:Tavastehus', 'Ii', 'Iisalmi:Idensalmi', 'Iitti', 'Ikaalinen', 'Ilmajoki',
  'Ilomantsi', 'Imatra', 'Inari:Enare', 'Isojoki:Storå', 'Isokyrö:Storkyro', 'Janakkala', 'Joensuu',
  'Jokioinen:Jockis', 'Joroinen:Jorois', 'Joutsa', 'Juuka', 'Juupajoki', 'Juva', 'Jyväskylä',
  'Jämijärvi', 'Jämsä', 'Järvenpää:Träskända', 'Kaarina:S:t Karins', 'Kaavi', 'Kajaani:Kajana',
  'Kalajoki', 'Kangasala', 'Kangasniemi', 'Kankaanpää', 'Kannonkoski', 'Kannus', 'Karijoki:Bötom',
  'Karkkila:Högfors', 'Karstula', 'Karvia', 'Kauhajoki', 'Kauhava', 'Kaustinen:Kaustby', 'Keitele',
  'Kemi', 'Kemijärvi', 'Keminmaa', 'Kempele', 'Kerava:Kervo', 'Keuruu', 'Kihniö', 'Kinnula', 'Kitee',
  'Kittilä', 'Kiuruvesi', 'Kivijärvi', 'Kokemäki:Kumo', 'Kolari', 'Konnevesi', 'Kontiolahti',
  'Koski Tl', 'Kotka', 'Kouvola', 'Kuhmo', 'Kuhmoinen', 'Kuopio', 'Kuortane', 'Kurikka', 'Kustavi:Gustavs',
  'Kuusamo', 'Kyyjärvi', 'Kärkölä', 'Kärsämäki', 'Lahti:Lahtis', 'Laihia:Laihela', 'Laitila:Letala',
  'Lapinlahti', 'Lappajärvi', 'Lappeenranta:Villmanstrand', 'Lapua:Lappo', 'Laukaa', 'Lemi',
  'Lempäälä', 'Leppävirta', 'Lestijärvi', 'Lieksa', 'Lieto:Lundo', 'Liminka:Limingo', 'Liperi',
  'Loimaa', 'Loppi', 'Luhanka', 'Lumijoki', 'Luumäki', 'Marttila', 'Masku', 'Merijärvi',
  'Merikarvia:Sastmola', 'Miehikkälä', 'Mikkeli:S:t Michel', 'Muhos', 'Multia', 'Muonio', 'Muurame',
  'Mynämäki:Virmo', 'Mäntsälä', 'Mänttä-Vilppula', 'Mäntyharju', 'Naantali:Nådendal',
  'Nakkila', 'Nivala', 'Nokia', 'Nousiainen:Nousis', 'Nurmes', 'Nurmijärvi', 'Orimattila', 'Oripää',
  'Orivesi', 'Oulainen', 'Oulu:Uleåborg', 'Outokumpu', 'Padasjoki', 'Paimio:Pemar', 'Paltamo',
  'Parikkala', 'Parkano', 'Pelkosenniemi', 'Pello', 'Perho', 'Pertunmaa', 'Petäjävesi', 'Pieksämäki',
  'Pielavesi', 'Pihtipudas', 'Pirkkala:Birkala', 'Polvijärvi', 'Pomarkku:Påmark', 'Pori:Björneborg',
  'Pornainen:Borgnäs', 'Posio', 'Pudasjärvi', 'Pukkila', 'Punkalaidun', 'Puolanka', 'Puumala',
  'Pyhäjoki', 'Pyhäjärvi', 'Pyhäntä', 'Pyhäranta', 'Pälkäne', 'Pöytyä',
  'Raahe:Brahestad', 'Raisio:Reso', 'Rantasalmi', 'Ranua', 'Rauma:Raumo', 'Rautalampi', 'Rautavaara',
  'Rautjärvi', 'Reisjärvi', 'Riihimäki', 'Ristijärvi', 'Rovaniemi', 'Ruokolahti', 'Ruovesi',
  'Rusko', 'Rääkkylä', 'Saarijärvi', 'Salla', 'Salo', 'Sastamala', 'Sauvo:Sagu', 'Savitaipale',
  'Savonlinna:Nyslott', 'Savukoski', 'Seinäjoki', 'Sievi', 'Siikainen', 'Siikajoki', 'Siikalatva',
  'Siilinjärvi', 'Simo', 'Sodankylä', 'Soini', 'Somero', 'Sonkajärvi', 'Sotkamo', 'Sulkava',
  'Suomussalmi', 'Suonenjoki', 'Sysmä', 'Säkylä', 'Taipalsaari', 'Taivalkoski', 'Taivassalo:Tövsala',
  'Tammela', 'Tampere:Tammerfors', 'Tervo', 'Tervola', 'Teuva:Östermark', 'Tohmajärvi', 'Toholampi',
  'Toivakka', 'Tornio:Torneå', 'Tuusniemi', 'Tuusula:Tusby', 'Tyrnävä', 'Ulvila:Ulvsby', 'Urjala',
  'Utajärvi', 'Utsjoki', 'Uurainen', 'Uusikaupunki:Nystad', 'Vaala', 'Valkeakoski', 'Varkaus',
  'Vehmaa', 'Vesanto', 'Vesilahti', 'Veteli:Vetil', 'Vieremä', 'Vihti:Vichtis', 'Viitasaari',
  'Vimpeli', 'Virolahti', 'Virrat', 'Ylitornio:Övertorneå', 'Ylivieska', 'Ylöjärvi', 'Ypäjä',
  'Ähtäri', 'Äänekoski',
].map((entry) => {
  const at = entry.indexOf(':')
  return at < 0 ? [entry] : [entry.slice(at + 1), entry.slice(0, at)]
})

const byName = (a, b) => a[0].localeCompare(b[0], 'sv')

/** [{name, other, group}] in display order: Swedish-speaking and bilingual first. */
export const MUNICIPALITIES = [
  ...[...SWEDISH_MAJORITY, ...ALAND].sort(byName).map(([sv, fi]) => ({ name: sv, other: fi ?? null, group: 'swedish' })),
  ...FINNISH_MAJORITY.sort(byName).map(([sv, fi]) => ({ name: sv, other: fi, group: 'bilingual' })),
  ...FINNISH.sort((a, b) => (a[1] ?? a[0]).localeCompare(b[1] ?? b[0], 'fi'))
    .map(([name, fi]) => (fi ? { name: fi, other: name, group: 'finnish' } : { name, other: null, group: 'finnish' })),
]

/** The listed name for what someone typed (either language, any case), or the text itself. */
export function canonicalMunicipality(text) {
  const wanted = text.trim().toLocaleLowerCase('sv')
  const hit = MUNICIPALITIES.find((m) => m.name.toLocaleLowerCase('sv') === wanted
    || m.other?.toLocaleLowerCase('sv') === wanted)
  return hit ? hit.name : text.trim()
}
