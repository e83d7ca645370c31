//! The staff bundle (checkout). Built by Trunk from `staff.html` into `dist/staff/`.

fn main() {
    member_center::staff_app::mount();
}
