-- The built-in layer types of the seed's municipal GIS, and one layer of each.
-- Attributes marked "internal": true are internal fields: the public never
-- sees them, whatever the endpoint.

INSERT INTO layer_types (name, title_bg, title_en, geometry_type, cadastral_level, built_in, default_style, attributes) VALUES
('cadastre_parcels', 'Кадастър – поземлени имоти', 'Cadastre – land parcels', 'MultiPolygon', 3, true, 'cadastre_parcels', '[
  {"name": "identifier", "type": "cadastral_id", "title_bg": "Идентификатор", "title_en": "Identifier", "required": true, "unique": true},
  {"name": "area_m2", "type": "number", "title_bg": "Площ по документ, м²", "title_en": "Documented area, m²"},
  {"name": "land_use", "type": "enum", "title_bg": "Начин на трайно ползване", "title_en": "Permanent land use",
   "values": ["жилищна", "обществено обслужване", "производствена", "озеленяване", "нива", "ливада", "пасище", "гора", "улица", "друг"]},
  {"name": "ownership", "type": "enum", "title_bg": "Вид собственост", "title_en": "Ownership form",
   "values": ["частна", "държавна публична", "държавна частна", "общинска публична", "общинска частна", "смесена", "религиозна"]},
  {"name": "address", "type": "text", "title_bg": "Адрес", "title_en": "Address"}
]'),
('cadastre_buildings', 'Кадастър – сгради', 'Cadastre – buildings', 'MultiPolygon', 4, true, 'cadastre_buildings', '[
  {"name": "identifier", "type": "cadastral_id", "title_bg": "Идентификатор", "title_en": "Identifier", "required": true, "unique": true},
  {"name": "floors", "type": "integer", "title_bg": "Брой етажи", "title_en": "Floors"},
  {"name": "purpose", "type": "enum", "title_bg": "Предназначение", "title_en": "Purpose",
   "values": ["жилищна сграда", "сграда със смесено предназначение", "административна сграда", "търговска сграда", "промишлена сграда", "селскостопанска сграда", "гараж", "друга"]},
  {"name": "units_count", "type": "integer", "title_bg": "Брой самостоятелни обекти", "title_en": "Independent units"},
  {"name": "built_area_m2", "type": "number", "title_bg": "Застроена площ, м²", "title_en": "Built-up area, m²"}
]'),
('cadastre_units', 'Кадастър – самостоятелни обекти', 'Cadastre – independent units', 'MultiPolygon', 5, true, 'cadastre_units', '[
  {"name": "identifier", "type": "cadastral_id", "title_bg": "Идентификатор", "title_en": "Identifier", "required": true, "unique": true},
  {"name": "floor", "type": "integer", "title_bg": "Етаж", "title_en": "Floor"},
  {"name": "purpose", "type": "enum", "title_bg": "Предназначение", "title_en": "Purpose",
   "values": ["жилище", "офис", "магазин", "ателие", "гараж", "склад", "друг"]},
  {"name": "area_m2", "type": "number", "title_bg": "Площ, м²", "title_en": "Area, m²"}
]'),
('regulation_plots', 'Регулационен план – УПИ', 'Regulation plan – regulated plots (УПИ)', 'MultiPolygon', NULL, true, 'regulation_plots', '[
  {"name": "plot_number", "type": "text", "title_bg": "Номер на УПИ", "title_en": "Plot number", "required": true},
  {"name": "quarter_number", "type": "text", "title_bg": "Квартал", "title_en": "Quarter", "required": true},
  {"name": "purpose", "type": "text", "title_bg": "Отреждане", "title_en": "Designation"},
  {"name": "parcel_ids", "type": "text", "title_bg": "Поземлени имоти", "title_en": "Land parcels"},
  {"name": "area_m2", "type": "number", "title_bg": "Площ, м²", "title_en": "Area, m²"}
]'),
('regulation_quarters', 'Регулационен план – квартали', 'Regulation plan – quarters', 'MultiPolygon', NULL, true, 'regulation_quarters', '[
  {"name": "quarter_number", "type": "text", "title_bg": "Номер на квартал", "title_en": "Quarter number", "required": true},
  {"name": "area_m2", "type": "number", "title_bg": "Площ, м²", "title_en": "Area, m²"}
]'),
('regulation_lines', 'Регулационен план – линии', 'Regulation plan – lines', 'MultiLineString', NULL, true, 'regulation_lines', '[
  {"name": "line_kind", "type": "enum", "title_bg": "Вид линия", "title_en": "Line kind", "required": true,
   "values": ["регулационна", "задължителна строителна", "ограничителна строителна", "улична регулация"]}
]'),
('forestry_plan', 'Лесоустройствен план', 'Forestry plan', 'MultiPolygon', NULL, true, 'forestry_plan', '[
  {"name": "compartment", "type": "text", "title_bg": "Отдел", "title_en": "Compartment", "required": true},
  {"name": "subcompartment", "type": "text", "title_bg": "Подотдел", "title_en": "Sub-compartment"},
  {"name": "species", "type": "text", "title_bg": "Дървесен вид", "title_en": "Tree species"},
  {"name": "age_years", "type": "integer", "title_bg": "Възраст, години", "title_en": "Age, years"},
  {"name": "forest_kind", "type": "enum", "title_bg": "Вид гора", "title_en": "Forest kind",
   "values": ["иглолистна", "широколистна", "смесена", "издънкова"]}
]'),
('development_plan', 'Застроителен план', 'Development plan', 'MultiPolygon', NULL, true, 'development_plan', '[
  {"name": "zone_code", "type": "text", "title_bg": "Устройствена зона", "title_en": "Zone", "required": true},
  {"name": "building_mode", "type": "enum", "title_bg": "Начин на застрояване", "title_en": "Building mode",
   "values": ["свободно", "свързано", "основно", "допълващо"]},
  {"name": "max_height_m", "type": "number", "title_bg": "Максимална височина, м", "title_en": "Maximum height, m"},
  {"name": "density_pct", "type": "number", "title_bg": "Плътност на застрояване, %", "title_en": "Building density, %"},
  {"name": "intensity", "type": "number", "title_bg": "Коефициент на интензивност", "title_en": "Floor area ratio"},
  {"name": "green_pct", "type": "number", "title_bg": "Озеленяване, %", "title_en": "Green share, %"}
]'),
('general_plan_zones', 'Общ устройствен план – зони', 'General spatial plan – zones', 'MultiPolygon', NULL, true, 'general_plan_zones', '[
  {"name": "zone_code", "type": "text", "title_bg": "Код на зоната", "title_en": "Zone code", "required": true},
  {"name": "zone_name", "type": "text", "title_bg": "Наименование", "title_en": "Name"},
  {"name": "max_density_pct", "type": "number", "title_bg": "Максимална плътност, %", "title_en": "Maximum density, %"},
  {"name": "max_intensity", "type": "number", "title_bg": "Максимален Кинт", "title_en": "Maximum floor area ratio"},
  {"name": "min_green_pct", "type": "number", "title_bg": "Минимално озеленяване, %", "title_en": "Minimum green share, %"}
]'),
('utility_manholes', 'Подземни мрежи – шахти', 'Underground utilities – manholes', 'Point', NULL, true, 'utility_manholes', '[
  {"name": "network", "type": "enum", "title_bg": "Мрежа", "title_en": "Network", "required": true,
   "values": ["water", "sewer", "power", "gas", "telecom", "heating"]},
  {"name": "depth_m", "type": "number", "title_bg": "Дълбочина, м", "title_en": "Depth, m"},
  {"name": "operator", "type": "text", "title_bg": "Експлоатационно дружество", "title_en": "Operator", "internal": true}
]'),
('utility_lines', 'Подземни мрежи – проводи', 'Underground utilities – lines', 'MultiLineString', NULL, true, 'utility_lines', '[
  {"name": "network", "type": "enum", "title_bg": "Мрежа", "title_en": "Network", "required": true,
   "values": ["water", "sewer", "power", "gas", "telecom", "heating"]},
  {"name": "material", "type": "text", "title_bg": "Материал", "title_en": "Material"},
  {"name": "diameter_mm", "type": "integer", "title_bg": "Диаметър, мм", "title_en": "Diameter, mm"},
  {"name": "depth_m", "type": "number", "title_bg": "Дълбочина, м", "title_en": "Depth, m"},
  {"name": "operator", "type": "text", "title_bg": "Експлоатационно дружество", "title_en": "Operator", "internal": true}
]'),
('street_segments', 'Улична мрежа – отсечки', 'Street segments', 'MultiLineString', NULL, true, 'street_segments', '[
  {"name": "street_name", "type": "text", "title_bg": "Улица", "title_en": "Street", "required": true},
  {"name": "street_class", "type": "enum", "title_bg": "Клас", "title_en": "Class",
   "values": ["първостепенна", "второстепенна", "обслужваща", "пешеходна"]},
  {"name": "width_m", "type": "number", "title_bg": "Ширина, м", "title_en": "Width, m"},
  {"name": "surface", "type": "enum", "title_bg": "Настилка", "title_en": "Surface", "values": ["асфалт", "паваж", "бетон", "трошен камък", "без настилка"]},
  {"name": "one_way", "type": "boolean", "title_bg": "Еднопосочна", "title_en": "One-way"}
]'),
('grassland', 'Постоянно затревени площи', 'Permanently grassed areas', 'MultiPolygon', NULL, true, 'grassland', '[
  {"name": "block_code", "type": "text", "title_bg": "Физически блок", "title_en": "Physical block", "required": true},
  {"name": "grass_kind", "type": "enum", "title_bg": "Вид", "title_en": "Kind", "values": ["пасище", "ливада", "мера"]},
  {"name": "area_ha", "type": "number", "title_bg": "Площ, ха", "title_en": "Area, ha"}
]'),
('subsidy_areas', 'Площи, допустими за подпомагане', 'Areas eligible for subsidy', 'MultiPolygon', NULL, true, 'subsidy_areas', '[
  {"name": "block_code", "type": "text", "title_bg": "Физически блок", "title_en": "Physical block", "required": true},
  {"name": "scheme", "type": "text", "title_bg": "Схема", "title_en": "Scheme"},
  {"name": "campaign_year", "type": "integer", "title_bg": "Кампания", "title_en": "Campaign year"},
  {"name": "eligible_ha", "type": "number", "title_bg": "Допустима площ, ха", "title_en": "Eligible area, ha"}
]');

-- Utilities are critical infrastructure and cadastral units carry owners'
-- floor plans: both internal. The rest of the seed's layers are public maps.
INSERT INTO layers (name, layer_type, title_bg, title_en, visibility, min_zoom, sort_order)
SELECT name, name, title_bg, title_en,
       CASE WHEN name IN ('utility_manholes', 'utility_lines', 'cadastre_units') THEN 'internal' ELSE 'public' END,
       CASE name
           WHEN 'cadastre_units' THEN 17
           WHEN 'cadastre_buildings' THEN 14
           WHEN 'cadastre_parcels' THEN 12
           WHEN 'utility_manholes' THEN 16
           ELSE 0
       END,
       10 * array_position(ARRAY['cadastre_parcels', 'cadastre_buildings', 'cadastre_units',
           'regulation_plots', 'regulation_quarters', 'regulation_lines', 'development_plan',
           'general_plan_zones', 'forestry_plan', 'street_segments', 'utility_lines',
           'utility_manholes', 'grassland', 'subsidy_areas'], name)
FROM layer_types
WHERE built_in;

SELECT munigis_create_layer_table(name) FROM layers ORDER BY name;
