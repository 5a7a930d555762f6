package demo

import "hash/fnv"

// DefaultEKATTE is гр. Троян (Ловеч province), the town the demo is set in
// unless told otherwise: a mid-sized Balkan town whose code 73198 is in the
// NSI list and has a valid check digit.
const DefaultEKATTE = "73198"

// place is a town the demo knows where to put.
type place struct {
	ekatte   string
	name     string
	lat, lon float64 // WGS 84, approximate centre
}

// places are the province centres and a few more towns, with EKATTE codes
// from the NSI list (05-2018) and rounded coordinates of their centres.
var places = [...]place{
	{"73198", "Троян", 42.8942, 24.7158},
	{"68134", "София", 42.6977, 23.3219},
	{"56784", "Пловдив", 42.1354, 24.7453},
	{"10135", "Варна", 43.2141, 27.9147},
	{"07079", "Бургас", 42.5048, 27.4626},
	{"63427", "Русе", 43.8356, 25.9657},
	{"68850", "Стара Загора", 42.4258, 25.6345},
	{"56722", "Плевен", 43.4170, 24.6067},
	{"67338", "Сливен", 42.6817, 26.3229},
	{"72624", "Добрич", 43.5726, 27.8273},
	{"83510", "Шумен", 43.2712, 26.9361},
	{"55871", "Перник", 42.6052, 23.0378},
	{"77195", "Хасково", 41.9344, 25.5554},
	{"87374", "Ямбол", 42.4842, 26.5035},
	{"55155", "Пазарджик", 42.1928, 24.3336},
	{"04279", "Благоевград", 42.0209, 23.0943},
	{"10447", "Велико Търново", 43.0757, 25.6172},
	{"12259", "Враца", 43.2102, 23.5529},
	{"14218", "Габрово", 42.8742, 25.3187},
	{"10971", "Видин", 43.9962, 22.8679},
	{"41112", "Кюстендил", 42.2839, 22.6911},
	{"40909", "Кърджали", 41.6338, 25.3777},
	{"48489", "Монтана", 43.4125, 23.2250},
	{"43952", "Ловеч", 43.1370, 24.7142},
	{"66425", "Силистра", 44.1171, 27.2606},
	{"73626", "Търговище", 43.2512, 26.5722},
	{"61710", "Разград", 43.5333, 26.5167},
	{"67653", "Смолян", 41.5774, 24.7011},
	{"00702", "Асеновград", 42.0167, 24.8667},
	{"35167", "Казанлък", 42.6194, 25.3930},
	{"21052", "Димитровград", 42.0500, 25.6000},
	{"65231", "Самоков", 42.3370, 23.5528},
	{"56126", "Петрич", 41.3983, 23.2070},
	{"65927", "Севлиево", 43.0258, 25.1139},
	{"05815", "Ботевград", 42.9070, 23.7930},
	{"36498", "Карлово", 42.6433, 24.8072},
	{"65334", "Сандански", 41.5667, 23.2833},
	{"17395", "Гоце Делчев", 41.5667, 23.7333},
	{"55302", "Панагюрище", 42.5000, 24.1833},
	{"10450", "Велинград", 42.0272, 23.9917},
}

// locate returns where to put the town of code. A code the table does not
// know gets a spot derived from the code inside the middle of the country
// (lat 42.2–43.4, lon 23.6–26.6), well away from the borders: plausible,
// stable, and never outside the area EPSG:7801 is meant for.
func locate(code string) place {
	for _, p := range places {
		if p.ekatte == code {
			return p
		}
	}
	h := fnv.New64a()
	h.Write([]byte(code))
	v := h.Sum64()
	lat := 42.2 + 1.2*float64(v&0xffff)/0xffff
	lon := 23.6 + 3.0*float64((v>>16)&0xffff)/0xffff
	return place{ekatte: code, lat: lat, lon: lon}
}
