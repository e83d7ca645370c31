//! The member bundle (e-card). Built by Trunk from `index.html`.

fn main() {
    member_center::member_app::mount();
}
