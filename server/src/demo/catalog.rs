//! The plant the demo generator builds: departments, machine types, the skills they need and
//! the changeover families. Figures are typical of a small metal-goods plant.

pub struct DepartmentSpec {
    pub code: &'static str,
    pub name: &'static str,
}

pub const DEPARTMENTS: [DepartmentSpec; 4] = [
    DepartmentSpec {
        code: "machining",
        name: "Machining",
    },
    DepartmentSpec {
        code: "assembly",
        name: "Assembly",
    },
    DepartmentSpec {
        code: "paint",
        name: "Paint",
    },
    DepartmentSpec {
        code: "packaging",
        name: "Packaging",
    },
];

pub struct MachineTypeSpec {
    pub code: &'static str,
    pub name: &'static str,
    /// Index into [`DEPARTMENTS`].
    pub department: usize,
    /// The skill an operator needs to run it (one skill per machine type).
    pub skill: &'static str,
    pub skill_name: &'static str,
    /// Nameplate speed in units per hour (the OEE performance reference).
    pub ideal_units_per_hour: f64,
    /// Share of the plant's machines of this type.
    pub share: f64,
    /// Which changeover families this type distinguishes.
    pub families: FamilyKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum FamilyKind {
    Material,
    Colour,
    Packaging,
}

pub const MATERIALS: [&str; 3] = ["steel", "aluminium", "brass"];
pub const COLOURS: [&str; 4] = ["white", "black", "red", "blue"];
pub const PACKAGING: [&str; 2] = ["carton", "crate"];

impl FamilyKind {
    pub fn families(self) -> &'static [&'static str] {
        match self {
            FamilyKind::Material => &MATERIALS,
            FamilyKind::Colour => &COLOURS,
            FamilyKind::Packaging => &PACKAGING,
        }
    }
}

pub const MACHINE_TYPES: [MachineTypeSpec; 8] = [
    MachineTypeSpec {
        code: "lathe",
        name: "CNC lathe",
        department: 0,
        skill: "turning",
        skill_name: "CNC turning",
        ideal_units_per_hour: 12.0,
        share: 0.16,
        families: FamilyKind::Material,
    },
    MachineTypeSpec {
        code: "mill5",
        name: "5-axis mill",
        department: 0,
        skill: "milling",
        skill_name: "5-axis milling",
        ideal_units_per_hour: 8.0,
        share: 0.14,
        families: FamilyKind::Material,
    },
    MachineTypeSpec {
        code: "grinder",
        name: "Surface grinder",
        department: 0,
        skill: "grinding",
        skill_name: "Grinding",
        ideal_units_per_hour: 15.0,
        share: 0.08,
        families: FamilyKind::Material,
    },
    MachineTypeSpec {
        code: "assembly-cell",
        name: "Assembly cell",
        department: 1,
        skill: "assembly",
        skill_name: "Assembly",
        ideal_units_per_hour: 10.0,
        share: 0.16,
        families: FamilyKind::Material,
    },
    MachineTypeSpec {
        code: "press",
        name: "Hydraulic press",
        department: 1,
        skill: "pressing",
        skill_name: "Press operation",
        ideal_units_per_hour: 30.0,
        share: 0.08,
        families: FamilyKind::Material,
    },
    MachineTypeSpec {
        code: "paint-booth",
        name: "Paint booth",
        department: 2,
        skill: "painting",
        skill_name: "Spray painting",
        ideal_units_per_hour: 20.0,
        share: 0.14,
        families: FamilyKind::Colour,
    },
    MachineTypeSpec {
        code: "oven",
        name: "Curing oven",
        department: 2,
        skill: "curing",
        skill_name: "Oven curing",
        ideal_units_per_hour: 30.0,
        share: 0.08,
        families: FamilyKind::Colour,
    },
    MachineTypeSpec {
        code: "packing-line",
        name: "Packing line",
        department: 3,
        skill: "packing",
        skill_name: "Packing",
        ideal_units_per_hour: 40.0,
        share: 0.16,
        families: FamilyKind::Packaging,
    },
];

/// Shift definitions in local plant time: (code, name, start hour, length in hours).
pub const SHIFTS: [(&str, &str, u32, u32); 3] = [
    ("day", "Day shift", 6, 8),
    ("evening", "Evening shift", 14, 8),
    ("night", "Night shift", 22, 8),
];

pub const FIRST_NAMES: [&str; 24] = [
    "Anna", "Ben", "Carla", "Deniz", "Elif", "Felix", "Greta", "Hakan", "Ines", "Jonas", "Katrin",
    "Luca", "Mara", "Nils", "Olga", "Paul", "Rosa", "Sven", "Tara", "Udo", "Vera", "Wiktor",
    "Yara", "Zoran",
];
pub const LAST_NAMES: [&str; 16] = [
    "Bauer",
    "Celik",
    "Fischer",
    "Hoffmann",
    "Jovanovic",
    "Keller",
    "Lange",
    "Meyer",
    "Nowak",
    "Petrov",
    "Richter",
    "Schmidt",
    "Schulz",
    "Wagner",
    "Weber",
    "Yilmaz",
];
